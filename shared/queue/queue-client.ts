import { mnsEndpoint } from '../config/endpoints.ts';
import type { QueueEnv } from '../config/env.ts';
import type { Credentials } from '../runtime/context.ts';
import { MnsResultQueue } from './mns-queue.ts';
import type { ResultQueue } from './port.ts';

/** HTTPS on the region's internal MNS endpoint unless configured otherwise (endpoints.ts). */
export function queueFor(env: QueueEnv, credentials: Credentials): ResultQueue {
  return new MnsResultQueue({ accountId: env.FLEETRUN_ACCOUNT_ID, queueName: env.FLEETRUN_RESULT_QUEUE, credentials, endpoint: mnsEndpoint(env), region: env.FLEETRUN_REGION });
}
