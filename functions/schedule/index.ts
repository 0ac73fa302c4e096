// Timer trigger: scheduled jobs (timer and native Period), then the reconciler.
import { parseScheduleEnv } from '../../shared/config/function-envs.ts';
import { lazyAssistant } from '../../shared/pipeline/assistant-client.ts';
import { storeFor } from '../../shared/pipeline/clients.ts';
import { perCredentials } from '../../shared/pipeline/deps.ts';
import { NO_CHAT } from '../../shared/pipeline/finish-run.ts';
import { queueFor } from '../../shared/pipeline/queue-client.ts';
import { reconcile } from '../../shared/pipeline/reconcile.ts';
import { chatSecrets, replyConfigOf } from '../../shared/config/chat-env.ts';
import { createSender } from '../../shared/chat/codecs.ts';
import { redispatchStale } from '../../shared/chatops/dispatch-run.ts';
import { reportLinks } from '../../shared/chatops/report-links.ts';
import { senderReplier } from '../../shared/chatops/run-replier.ts';
import { loadChatFiles } from '../../shared/chatops/config-files.ts';
import { runJobsTick } from '../../shared/chatops/scheduled-jobs.ts';
import { triggerDate } from '../../shared/runtime/envelopes/timer.ts';
import { fc3TimerHandler } from '../../shared/runtime/fc3-timer.ts';

const env = parseScheduleEnv(process.env);
// One schema holds the function's chat variables too.
const chatEnv = env;
const linkConfig = { publicUrl: env.FLEETRUN_PUBLIC_URL, sealKey: env.FLEETRUN_SEAL_KEY, days: env.FLEETRUN_REPORT_LINK_DAYS };
const sender = createSender(replyConfigOf(chatEnv));
const clients = perCredentials((credentials) => ({ store: storeFor(env, credentials), queue: queueFor(env, credentials), assistant: lazyAssistant(env, credentials) }));

export const handler = fc3TimerHandler(
  async (tick, context) => {
    // The tick's time is when the timer fired, not when this instance got to it: a cold start or a
    // retried invocation must see the same due jobs and stale runs as the firing itself. FC always
    // sends triggerTime (§5.4); only one that is not a readable time falls back to now, so an
    // unexpected format delays nothing, and the fire-time claims keep a job from running twice.
    const firedAt = triggerDate(tick);
    if (!firedAt) context.logger.warn('timer event has no readable triggerTime; using the invocation time', { triggerTime: tick.triggerTime.slice(0, 64), triggerName: tick.triggerName });
    const now = firedAt ?? new Date();
    const { catalog, jobs, policy } = await loadChatFiles(chatEnv);
    const c = clients(context);
    const scheduled = await runJobsTick({
      jobs,
      catalog,
      store: c.store,
      assistant: c.assistant,
      regionId: env.FLEETRUN_REGION,
      outputBucket: env.FLEETRUN_OUTPUT_BUCKET,
      sealKey: env.FLEETRUN_SEAL_KEY,
      chat: NO_CHAT,
      logger: context.logger,
      now,
      lookbackSeconds: 300,
    });
    // The reconciler may finish a run, or send a final reply whose sender died: it replies as summarize does.
    const logger = context.logger.withSecrets(chatSecrets(chatEnv));
    const chat = senderReplier({ sender, store: c.store, logger, intervalSeconds: chatEnv.FLEETRUN_PROGRESS_INTERVAL_SECONDS, reportLink: reportLinks({ ...linkConfig, store: c.store, logger }) });
    const redispatched = await redispatchStale({
      store: c.store,
      assistant: c.assistant,
      regionId: env.FLEETRUN_REGION,
      outputBucket: env.FLEETRUN_OUTPUT_BUCKET,
      sealKey: env.FLEETRUN_SEAL_KEY,
      policy,
      sender,
      chat,
      logger,
      now,
      afterSeconds: env.FLEETRUN_REDISPATCH_AFTER_SECONDS,
      max: 5,
    });
    const outcome = await reconcile({
      ...clients(context),
      chat,
      replyTakeoverSeconds: env.FLEETRUN_REPLY_TAKEOVER_SECONDS,
      logger,
      regionId: env.FLEETRUN_REGION,
      sealKey: env.FLEETRUN_SEAL_KEY,
      graceSeconds: env.FLEETRUN_RECONCILE_GRACE_SECONDS,
      maxCalls: env.FLEETRUN_RECONCILE_MAX_CALLS,
    });
    context.logger.info('reconciled', { ...outcome });
    return { ...outcome, redispatched, jobs: { fired: scheduled.timer.fired, skipped: scheduled.timer.skipped, native: scheduled.native?.outcomes ?? [] } };
  },
  { functionName: 'fleetrun-schedule', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
);
