/**
 * Builders of the OSS clients from the configuration. Each SDK's builder lives in a module of its
 * own, next to its port (queue/queue-client.ts, cloud-assistant/assistant-client.ts), so a function's
 * bundle carries only the SDKs of the parts its wiring names (runtime/function-deps.ts).
 */
import { ossEndpoints } from '../config/endpoints.ts';
import type { DeploymentEnv } from '../config/env.ts';
import type { Credentials } from '../runtime/context.ts';
import { AliOssStore } from './ali-oss-store.ts';
import type { ObjectStore } from './port.ts';

/** The runs bucket (FLEETRUN_BUCKET): manifests, results, summaries, reports, markers. */
export function storeFor(env: DeploymentEnv, credentials: Credentials): ObjectStore {
  return bucketStoreFor(env, credentials, env.FLEETRUN_BUCKET);
}

/** HTTPS on the region's internal endpoint unless configured otherwise; links are signed for the public one (endpoints.ts). */
export function bucketStoreFor(env: DeploymentEnv, credentials: Credentials, bucket: string): ObjectStore {
  const { endpoint, publicEndpoint } = ossEndpoints(env);
  return new AliOssStore({ bucket, region: `oss-${env.FLEETRUN_REGION}`, credentials, endpoint, publicEndpoint });
}
