// HTTP trigger: chat webhooks (Slack, DingTalk, Lark, signed webhook) → an answer within 3 s; runs go to dispatch.
// GET /reports/<run>: a reply's signed report link → the run's report.html from the private bucket.
import { createCodecs } from '../../shared/chat/codecs.ts';
import { reportLinkFor } from '../../shared/chatops/chat-replies.ts';
import { loadChatFiles } from '../../shared/chatops/config-files.ts';
import { dispatcherFor } from '../../shared/chatops/dispatcher-for.ts';
import { handleChat, storeReplayGuard } from '../../shared/chatops/handle-chat.ts';
import { isReportRequest, serveReport } from '../../shared/chatops/report-route.ts';
import { chatConfigOf, chatSecrets } from '../../shared/config/chat-env.ts';
import { parseChatopsEnv } from '../../shared/config/function-envs.ts';
import { fc3HttpHandler } from '../../shared/runtime/fc3-http.ts';
import { functionDeps } from '../../shared/runtime/function-deps.ts';
import { storeFor } from '../../shared/store/store-client.ts';

const env = parseChatopsEnv(process.env);
const deps = functionDeps(env, { secrets: chatSecrets(env) })
  .perCredentials('store', storeFor)
  .perCredentials('codecs', (e, _credentials, { store }) => createCodecs(chatConfigOf(e), storeReplayGuard(store)))
  .perCredentials('dispatcher', (e, credentials) => dispatcherFor(e, e, credentials))
  .perInvocation('reportLink', reportLinkFor);

export const handler = fc3HttpHandler(
  async (request, context) => {
    const d = deps.for(context);
    // The report links of the replies; the chat webhooks are every other path.
    if (isReportRequest(request)) return serveReport(request, { store: d.store, sealKey: env.FLEETRUN_SEAL_KEY, logger: d.logger });
    return handleChat(request, { ...d, ...(await loadChatFiles(env)), sealKey: env.FLEETRUN_SEAL_KEY, approvalTtlSeconds: env.FLEETRUN_APPROVAL_TTL_SECONDS });
  },
  { functionName: 'fleetrun-chatops', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
  { maxBodyBytes: env.FLEETRUN_CHAT_MAX_BODY_BYTES },
);
