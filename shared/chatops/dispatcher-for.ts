/**
 * Which API chatops hands runs to dispatch through: FC 3.0 (the default; an fc3 deployment's
 * functions belong to no service) or FC 2.0 for a deployment made on it, whose service is
 * FLEETRUN_FC_SERVICE. Both over HTTPS to the account's regional endpoint unless FLEETRUN_FC_ENDPOINT
 * says otherwise (endpoints.ts).
 */
import type { HandOffEnv } from '../config/chat-env.ts';
import { fcEndpoint } from '../config/endpoints.ts';
import type { DeploymentEnv } from '../config/env.ts';
import type { Credentials } from '../runtime/context.ts';
import type { Dispatcher } from './dispatch-request.ts';
import { fc2Dispatcher } from './fc2-dispatcher.ts';
import { fc3Dispatcher } from './fc3-dispatcher.ts';

export function dispatcherFor(env: Pick<DeploymentEnv, 'FLEETRUN_ACCOUNT_ID' | 'FLEETRUN_REGION'>, chatEnv: HandOffEnv, credentials: Credentials): Dispatcher {
  const endpoint = fcEndpoint({ ...env, FLEETRUN_FC_ENDPOINT: chatEnv.FLEETRUN_FC_ENDPOINT });
  const common = { accountId: env.FLEETRUN_ACCOUNT_ID, region: env.FLEETRUN_REGION, functionName: chatEnv.FLEETRUN_DISPATCH_FUNCTION, credentials, endpoint };
  // parseChatEnv insists on FLEETRUN_FC_SERVICE with 2.0.
  return chatEnv.FLEETRUN_FC_API_VERSION === '2.0' ? fc2Dispatcher({ ...common, service: chatEnv.FLEETRUN_FC_SERVICE! }) : fc3Dispatcher(common);
}
