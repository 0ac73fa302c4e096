// Timer trigger: the reconciler (scheduled jobs join it with the ChatOps issue).
import { parseFunctionEnv } from '../../shared/config/env.ts';
import { lazyAssistant } from '../../shared/pipeline/assistant-client.ts';
import { storeFor } from '../../shared/pipeline/clients.ts';
import { perCredentials } from '../../shared/pipeline/deps.ts';
import { NO_CHAT } from '../../shared/pipeline/finish-run.ts';
import { queueFor } from '../../shared/pipeline/queue-client.ts';
import { reconcile } from '../../shared/pipeline/reconcile.ts';
import { fc3EventHandler } from '../../shared/runtime/fc3-event.ts';

const env = parseFunctionEnv(process.env);
const clients = perCredentials((credentials) => ({ store: storeFor(env, credentials), queue: queueFor(env, credentials), assistant: lazyAssistant(env, credentials) }));

export const handler = fc3EventHandler(
  async (_ticks, context) => {
    const outcome = await reconcile({
      ...clients(context),
      chat: NO_CHAT,
      logger: context.logger,
      regionId: env.FLEETRUN_REGION,
      sealKey: env.FLEETRUN_SEAL_KEY,
      graceSeconds: env.FLEETRUN_RECONCILE_GRACE_SECONDS,
      maxCalls: env.FLEETRUN_RECONCILE_MAX_CALLS,
    });
    context.logger.info('reconciled', { ...outcome });
    return outcome;
  },
  { functionName: 'fleetrun-schedule', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
);
