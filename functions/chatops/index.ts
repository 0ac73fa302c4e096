// HTTP trigger: chat webhooks (Slack, DingTalk, Lark, signed webhook) → an answer within 3 s; runs go to dispatch.
import { createCodecs } from '../../shared/chat/codecs.ts';
import { chatConfigOf, chatSecrets, parseChatEnv } from '../../shared/config/chat-env.ts';
import { parseFunctionEnv } from '../../shared/config/env.ts';
import { loadChatFiles } from '../../shared/chatops/config-files.ts';
import { dispatcherFor } from '../../shared/chatops/dispatcher-for.ts';
import { handleChat, storeReplayGuard } from '../../shared/chatops/handle-chat.ts';
import { storeFor } from '../../shared/pipeline/clients.ts';
import { perCredentials } from '../../shared/pipeline/deps.ts';
import { fc3HttpHandler } from '../../shared/runtime/fc3-http.ts';

const env = parseFunctionEnv(process.env);
const chatEnv = parseChatEnv(process.env);
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
    const files = await loadChatFiles(chatEnv);
    return handleChat(request, { ...clients(context), ...files, sealKey: env.FLEETRUN_SEAL_KEY, logger: context.logger.withSecrets(chatSecrets(chatEnv)) });
  },
  { functionName: 'fleetrun-chatops', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
  { maxBodyBytes: chatEnv.FLEETRUN_CHAT_MAX_BODY_BYTES },
);
