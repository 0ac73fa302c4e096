// Timer trigger: scheduled jobs, hand-offs that never started, then the reconciler (shared/schedule/scheduler-tick.ts).
import { parseScheduleEnv } from '../../shared/config/function-envs.ts';
import { lazyAssistant } from '../../shared/pipeline/assistant-client.ts';
import { storeFor } from '../../shared/pipeline/clients.ts';
import { perCredentials } from '../../shared/pipeline/deps.ts';
import { queueFor } from '../../shared/pipeline/queue-client.ts';
import { chatSecrets, replyConfigOf } from '../../shared/config/chat-env.ts';
import { createSender } from '../../shared/chat/codecs.ts';
import { reportLinks } from '../../shared/chatops/report-links.ts';
import { senderReplier } from '../../shared/chatops/run-replier.ts';
import { loadChatFiles } from '../../shared/chatops/config-files.ts';
import { firingTime, schedulerTick } from '../../shared/schedule/scheduler-tick.ts';
import { fc3TimerHandler } from '../../shared/runtime/fc3-timer.ts';

const env = parseScheduleEnv(process.env);
const linkConfig = { publicUrl: env.FLEETRUN_PUBLIC_URL, sealKey: env.FLEETRUN_SEAL_KEY, days: env.FLEETRUN_REPORT_LINK_DAYS };
const sender = createSender(replyConfigOf(env));
const clients = perCredentials((credentials) => ({ store: storeFor(env, credentials), queue: queueFor(env, credentials), assistant: lazyAssistant(env, credentials) }));

export const handler = fc3TimerHandler(
  async (tick, context) => {
    const logger = context.logger.withSecrets(chatSecrets(env));
    const firedAt = firingTime(tick, logger);
    const files = await loadChatFiles(env);
    const c = clients(context);
    // The reconciler may finish a run, or send a final reply whose sender died: it replies as summarize does.
    const chat = senderReplier({ sender, store: c.store, logger, intervalSeconds: env.FLEETRUN_PROGRESS_INTERVAL_SECONDS, reportLink: reportLinks({ ...linkConfig, store: c.store, logger }) });
    return schedulerTick({ ...c, sender, chat, logger, ...files, settings: env }, firedAt);
  },
  { functionName: 'fleetrun-schedule', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
);
