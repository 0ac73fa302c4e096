import type { FunctionEnv } from '../config/env.ts';
import { EcsCloudAssistant } from '../cloud-assistant/ecs-cloud-assistant.ts';
import type { CloudAssistant } from '../cloud-assistant/port.ts';
import type { Credentials } from '../runtime/context.ts';

/** The ECS client, created (and the SDK loaded) on the first call that needs it. */
export function lazyAssistant(env: FunctionEnv, credentials: Credentials): () => Promise<CloudAssistant> {
  let assistant: Promise<CloudAssistant> | undefined;
  return () =>
    (assistant ??= EcsCloudAssistant.create({
      regionId: env.FLEETRUN_REGION,
      credentials,
      endpoint: env.FLEETRUN_ECS_ENDPOINT,
      protocol: env.FLEETRUN_ECS_PROTOCOL,
    }));
}
