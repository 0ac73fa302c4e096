// MNS queue trigger (EventBridge event streaming) → per-instance results and run summaries in OSS.
import { parseSummarizeEnv } from '../../shared/config/function-envs.ts';
import { storeFor } from '../../shared/pipeline/clients.ts';
import { perCredentials } from '../../shared/pipeline/deps.ts';
import { createSender } from '../../shared/chat/codecs.ts';
import { reportLinks } from '../../shared/chatops/report-links.ts';
import { senderReplier } from '../../shared/chatops/run-replier.ts';
import { chatSecrets, replyConfigOf } from '../../shared/config/chat-env.ts';
import { StoredResults } from '../../shared/pipeline/stored-results.ts';
import { handleResultMessages, resultMessagesEnvelope } from '../../shared/pipeline/summarize.ts';
import { fc3EventHandler } from '../../shared/runtime/fc3-event.ts';
import { RESULTS_QUEUE_TRIGGER } from './results-trigger.ts';

const env = parseSummarizeEnv(process.env);
// One schema holds the function's chat variables too.
const chatEnv = env;
const linkConfig = { publicUrl: env.FLEETRUN_PUBLIC_URL, sealKey: env.FLEETRUN_SEAL_KEY, days: env.FLEETRUN_REPORT_LINK_DAYS };
const sender = createSender(replyConfigOf(chatEnv));
const clients = perCredentials((credentials) => {
  const store = storeFor(env, credentials);
  return { store, stored: new StoredResults(store) };
});

export const handler = fc3EventHandler(
  resultMessagesEnvelope(RESULTS_QUEUE_TRIGGER),
  async (messages, context) => {
    const logger = context.logger.withSecrets(chatSecrets(chatEnv));
    const { store, stored } = clients(context);
    const chat = senderReplier({ sender, store, logger, intervalSeconds: chatEnv.FLEETRUN_PROGRESS_INTERVAL_SECONDS, reportLink: reportLinks({ ...linkConfig, store, logger }) });
    return handleResultMessages(messages, { store, stored, chat, logger, replyTakeoverSeconds: env.FLEETRUN_REPLY_TAKEOVER_SECONDS });
  },
  { functionName: 'fleetrun-summarize', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
);
