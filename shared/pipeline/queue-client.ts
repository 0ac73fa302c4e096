import type { FunctionEnv } from '../config/env.ts';
import { MnsResultQueue } from '../queue/mns-queue.ts';
import type { ResultQueue } from '../queue/port.ts';
import type { Credentials } from '../runtime/context.ts';

export function queueFor(env: FunctionEnv, credentials: Credentials): ResultQueue {
  return new MnsResultQueue({ accountId: env.FLEETRUN_ACCOUNT_ID, queueName: env.FLEETRUN_RESULT_QUEUE, credentials, endpoint: env.FLEETRUN_MNS_ENDPOINT, region: env.FLEETRUN_REGION });
}
