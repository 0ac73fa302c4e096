// HTTP trigger: chat webhooks (Slack, DingTalk, Lark, signed webhook) → an answer within 3 s; runs go to dispatch.
// GET /reports/<run>: a reply's signed report link → the run's report.html from the private bucket.
import { createCodecs } from '../../shared/chat/codecs.ts';
import { chatConfigOf, chatSecrets } from '../../shared/config/chat-env.ts';
import { parseChatopsEnv } from '../../shared/config/function-envs.ts';
import { loadChatFiles } from '../../shared/chatops/config-files.ts';
import { dispatcherFor } from '../../shared/chatops/dispatcher-for.ts';
import { handleChat, storeReplayGuard } from '../../shared/chatops/handle-chat.ts';
import { reportLinks } from '../../shared/chatops/report-links.ts';
import { isReportRequest, serveReport } from '../../shared/chatops/report-route.ts';
import { storeFor } from '../../shared/pipeline/clients.ts';
import { perCredentials } from '../../shared/pipeline/deps.ts';
import { fc3HttpHandler } from '../../shared/runtime/fc3-http.ts';

const env = parseChatopsEnv(process.env);
// One schema holds the function's chat variables too.
const chatEnv = env;
const clients = perCredentials((credentials) => {
  const store = storeFor(env, credentials);
  return {
    store,
    codecs: createCodecs(chatConfigOf(chatEnv), storeReplayGuard(store)),
    dispatcher: dispatcherFor(env, chatEnv, credentials),
  };
});

export const handler = fc3HttpHandler(
  async (request, context) => {
    const logger = context.logger.withSecrets(chatSecrets(chatEnv));
    const { store } = clients(context);
    // The report links of the replies; the chat webhooks are every other path.
    if (isReportRequest(request)) return serveReport(request, { store, sealKey: env.FLEETRUN_SEAL_KEY, logger });
    const files = await loadChatFiles(chatEnv);
    const reportLink = reportLinks({ publicUrl: env.FLEETRUN_PUBLIC_URL, sealKey: env.FLEETRUN_SEAL_KEY, days: env.FLEETRUN_REPORT_LINK_DAYS, store, logger });
    return handleChat(request, { ...clients(context), ...files, sealKey: env.FLEETRUN_SEAL_KEY, reportLink, logger });
  },
  { functionName: 'fleetrun-chatops', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
  { maxBodyBytes: chatEnv.FLEETRUN_CHAT_MAX_BODY_BYTES },
);
