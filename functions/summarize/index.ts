// MNS queue trigger (EventBridge event streaming) → results stored a batch to an object, a concurrency-limited run's next waves, run summaries in OSS.
import { chatReplier, chatSender } from '../../shared/chatops/chat-replies.ts';
import { lazyAssistant } from '../../shared/cloud-assistant/assistant-client.ts';
import { chatSecrets } from '../../shared/config/chat-env.ts';
import { parseSummarizeEnv } from '../../shared/config/function-envs.ts';
import { StoredResults } from '../../shared/pipeline/stored-results.ts';
import { handleResultMessages, resultMessagesEnvelope } from '../../shared/pipeline/summarize.ts';
import { fc3EventHandler } from '../../shared/runtime/fc3-event.ts';
import { functionDeps } from '../../shared/runtime/function-deps.ts';
import { storeFor } from '../../shared/store/store-client.ts';
import { RESULTS_QUEUE_TRIGGER } from './results-trigger.ts';

const env = parseSummarizeEnv(process.env);
const deps = functionDeps(env, { secrets: chatSecrets(env) })
  .perProcess('sender', chatSender)
  .perCredentials('store', storeFor)
  // Loaded on the first wave it sends: most batches of results send none.
  .perCredentials('assistant', lazyAssistant)
  // A warm instance remembers what it stored while its credentials last.
  .perCredentials('stored', (_env, _credentials, { store }) => new StoredResults(store))
  .perInvocation('chat', chatReplier);

export const handler = fc3EventHandler(
  resultMessagesEnvelope(RESULTS_QUEUE_TRIGGER),
  async (messages, context) => {
    const { assistant, ...d } = deps.for(context);
    return handleResultMessages(messages, { ...d, replyTakeoverSeconds: env.FLEETRUN_REPLY_TAKEOVER_SECONDS, fanOut: { assistant, regionId: env.FLEETRUN_REGION, sealKey: env.FLEETRUN_SEAL_KEY } });
  },
  { functionName: 'fleetrun-summarize', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
);
