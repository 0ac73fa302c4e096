/** Builders of the SDK-backed clients from the configuration; see deps.ts for why they are apart. */
import { ossEndpoints } from '../config/endpoints.ts';
import type { DeploymentEnv } from '../config/env.ts';
import type { Credentials } from '../runtime/context.ts';
import { AliOssStore } from '../store/ali-oss-store.ts';
import type { ObjectStore } from '../store/port.ts';

/** HTTPS on the region's internal endpoint unless configured otherwise; links are signed for the public one (endpoints.ts). */
export function storeFor(env: DeploymentEnv, credentials: Credentials, bucket: string = env.FLEETRUN_BUCKET): ObjectStore {
  const { endpoint, publicEndpoint } = ossEndpoints(env);
  return new AliOssStore({ bucket, region: `oss-${env.FLEETRUN_REGION}`, credentials, endpoint, publicEndpoint });
}
