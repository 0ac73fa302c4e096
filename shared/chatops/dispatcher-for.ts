/**
 * Which API chatops hands runs to dispatch through: FC 3.0 (the default; an fc3 deployment's
 * functions belong to no service) or FC 2.0 for a deployment made on it, whose service is
 * FLEETRUN_FC_SERVICE.
 */
import type { ChatEnv } from '../config/chat-env.ts';
import type { FunctionEnv } from '../config/env.ts';
import type { Credentials } from '../runtime/context.ts';
import type { Dispatcher } from './dispatch-request.ts';
import { fc2Dispatcher } from './fc2-dispatcher.ts';
import { fc3Dispatcher } from './fc3-dispatcher.ts';

export function dispatcherFor(env: Pick<FunctionEnv, 'FLEETRUN_ACCOUNT_ID' | 'FLEETRUN_REGION'>, chatEnv: ChatEnv, credentials: Credentials): Dispatcher {
  const common = { accountId: env.FLEETRUN_ACCOUNT_ID, region: env.FLEETRUN_REGION, functionName: chatEnv.FLEETRUN_DISPATCH_FUNCTION, credentials, endpoint: chatEnv.FLEETRUN_FC_ENDPOINT };
  // parseChatEnv insists on FLEETRUN_FC_SERVICE with 2.0.
  return chatEnv.FLEETRUN_FC_API_VERSION === '2.0' ? fc2Dispatcher({ ...common, service: chatEnv.FLEETRUN_FC_SERVICE! }) : fc3Dispatcher(common);
}
