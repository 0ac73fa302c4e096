// EventBridge trigger on acs.ecs / ecs:CloudAssistant:TaskCompleted → result messages on MNS.
import { lazyAssistant } from '../../shared/cloud-assistant/assistant-client.ts';
import { parseTaskEventsEnv } from '../../shared/config/function-envs.ts';
import { taskCompletedEnvelope } from '../../shared/events/task-completed.ts';
import { DeliveredOutputIndex } from '../../shared/pipeline/output-sources.ts';
import { ResultFetcher } from '../../shared/pipeline/result-fetcher.ts';
import { handleTaskEvents } from '../../shared/pipeline/task-events.ts';
import { CoalescingQueue } from '../../shared/queue/coalescing-queue.ts';
import { queueFor } from '../../shared/queue/queue-client.ts';
import { fc3EventHandler } from '../../shared/runtime/fc3-event.ts';
import { functionDeps } from '../../shared/runtime/function-deps.ts';
import { bucketStoreFor, storeFor } from '../../shared/store/store-client.ts';

const env = parseTaskEventsEnv(process.env);
const deps = functionDeps(env)
  .perCredentials('store', storeFor)
  .perCredentials('outputs', (e, credentials) => (e.FLEETRUN_OUTPUT_BUCKET ? new DeliveredOutputIndex(bucketStoreFor(e, credentials, e.FLEETRUN_OUTPUT_BUCKET)) : undefined))
  .perCredentials('queue', (e, credentials) => new CoalescingQueue(queueFor(e, credentials)))
  // The read budget's claims live in the runs bucket: every instance of this function shares them.
  .perCredentials('fetcher', (e, credentials, { store }) => new ResultFetcher(lazyAssistant(e, credentials), e.FLEETRUN_REGION, store, { gatherMs: e.FLEETRUN_FETCH_WINDOW_MS, intervalMs: e.FLEETRUN_FETCH_INTERVAL_MS }));

export const handler = fc3EventHandler(
  taskCompletedEnvelope,
  // A batch is one unit: a failure in some of its events fails the invocation (TaskEventsFailedError, naming them) after the rest were sent.
  async (events, context) => handleTaskEvents(events, { ...deps.for(context), sealKey: env.FLEETRUN_SEAL_KEY, outputWaitMs: env.FLEETRUN_OUTPUT_WAIT_MS, deadline: context.deadline }),
  { functionName: 'fleetrun-task-events', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
);
