// EventBridge trigger on acs.ecs / ecs:CloudAssistant:TaskCompleted → result messages on MNS.
import { parseTaskEventsEnv } from '../../shared/config/function-envs.ts';
import { lazyAssistant } from '../../shared/pipeline/assistant-client.ts';
import { storeFor } from '../../shared/pipeline/clients.ts';
import { perCredentials } from '../../shared/pipeline/deps.ts';
import { DeliveredOutputIndex } from '../../shared/pipeline/output-sources.ts';
import { ResultFetcher } from '../../shared/pipeline/result-fetcher.ts';
import { CoalescingQueue } from '../../shared/queue/coalescing-queue.ts';
import { queueFor } from '../../shared/pipeline/queue-client.ts';
import { taskCompletedEnvelope } from '../../shared/events/task-completed.ts';
import { handleTaskEvents } from '../../shared/pipeline/task-events.ts';
import { fc3EventHandler } from '../../shared/runtime/fc3-event.ts';

const env = parseTaskEventsEnv(process.env);
const clients = perCredentials((credentials) => {
  const store = storeFor(env, credentials);
  return {
    store,
    outputs: env.FLEETRUN_OUTPUT_BUCKET ? new DeliveredOutputIndex(storeFor(env, credentials, env.FLEETRUN_OUTPUT_BUCKET)) : undefined,
    queue: new CoalescingQueue(queueFor(env, credentials)),
    // The read budget's claims live in the runs bucket: every instance of this function shares them.
    fetcher: new ResultFetcher(lazyAssistant(env, credentials), env.FLEETRUN_REGION, store, { gatherMs: env.FLEETRUN_FETCH_WINDOW_MS, intervalMs: env.FLEETRUN_FETCH_INTERVAL_MS }),
  };
});

export const handler = fc3EventHandler(
  taskCompletedEnvelope,
  async (events, context) => handleTaskEvents(events, { ...clients(context), logger: context.logger, sealKey: env.FLEETRUN_SEAL_KEY }),
  { functionName: 'fleetrun-task-events', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
);
