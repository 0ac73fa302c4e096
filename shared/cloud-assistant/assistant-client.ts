import { ecsEndpoint } from '../config/endpoints.ts';
import type { EcsEndpointEnv } from '../config/env.ts';
import type { Credentials } from '../runtime/context.ts';
import { EcsCloudAssistant } from './ecs-cloud-assistant.ts';
import type { CloudAssistant } from './port.ts';

/** The ECS client, created (and the SDK loaded) on the first call that needs it; HTTPS unless configured otherwise. */
export function lazyAssistant(env: EcsEndpointEnv, credentials: Credentials): () => Promise<CloudAssistant> {
  let assistant: Promise<CloudAssistant> | undefined;
  return () => (assistant ??= EcsCloudAssistant.create({ regionId: env.FLEETRUN_REGION, credentials, ...ecsEndpoint(env) }));
}
