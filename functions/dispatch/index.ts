// Asynchronous invoke from chatops: start (fan out) or stop a run, and tell the chat thread.
import { z } from 'zod';
import { createSender } from '../../shared/chat/codecs.ts';
import { chatSecrets, replyConfigOf } from '../../shared/config/chat-env.ts';
import { parseDispatchEnv } from '../../shared/config/function-envs.ts';
import { loadChatFiles } from '../../shared/chatops/config-files.ts';
import { handleDispatch } from '../../shared/chatops/dispatch-run.ts';
import { reportLinks } from '../../shared/chatops/report-links.ts';
import { senderReplier } from '../../shared/chatops/run-replier.ts';
import { lazyAssistant } from '../../shared/pipeline/assistant-client.ts';
import { storeFor } from '../../shared/pipeline/clients.ts';
import { perCredentials } from '../../shared/pipeline/deps.ts';
import { invocationEnvelope } from '../../shared/runtime/envelopes/invocation.ts';
import { fc3EventHandler } from '../../shared/runtime/fc3-event.ts';

const env = parseDispatchEnv(process.env);
// One schema holds the function's chat variables too.
const chatEnv = env;
const linkConfig = { publicUrl: env.FLEETRUN_PUBLIC_URL, sealKey: env.FLEETRUN_SEAL_KEY, days: env.FLEETRUN_REPORT_LINK_DAYS };
const sender = createSender(replyConfigOf(chatEnv));
const clients = perCredentials((credentials) => ({ store: storeFor(env, credentials), assistant: lazyAssistant(env, credentials) }));

// Every value reaches handleDispatch, which checks the request itself and answers a malformed one as invalid.
export const handler = fc3EventHandler(
  invocationEnvelope(z.unknown()),
  async (requests, context) => {
    const { store, assistant } = clients(context);
    const { policy } = await loadChatFiles(chatEnv);
    const logger = context.logger.withSecrets(chatSecrets(chatEnv));
    const chat = senderReplier({ sender, store, logger, intervalSeconds: chatEnv.FLEETRUN_PROGRESS_INTERVAL_SECONDS, reportLink: reportLinks({ ...linkConfig, store, logger }) });
    const outcomes = [];
    for (const request of requests) {
      // As handleDispatch treats a malformed request: retrying cannot help, so log it and go on.
      if (!request.ok) {
        logger.error('malformed dispatch request', { reason: request.reason });
        continue;
      }
      outcomes.push(await handleDispatch(request.record, { assistant: await assistant(), store, regionId: env.FLEETRUN_REGION, outputBucket: env.FLEETRUN_OUTPUT_BUCKET, sealKey: env.FLEETRUN_SEAL_KEY, policy, sender, chat, logger }));
    }
    return outcomes;
  },
  { functionName: 'fleetrun-dispatch', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
);
