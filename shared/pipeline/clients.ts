/** Builders of the SDK-backed clients from the configuration; see deps.ts for why they are apart. */
import type { FunctionEnv } from '../config/env.ts';
import type { Credentials } from '../runtime/context.ts';
import { AliOssStore } from '../store/ali-oss-store.ts';
import type { ObjectStore } from '../store/port.ts';

export function storeFor(env: FunctionEnv, credentials: Credentials, bucket: string = env.FLEETRUN_BUCKET): ObjectStore {
  return new AliOssStore({ bucket, region: `oss-${env.FLEETRUN_REGION}`, credentials, endpoint: env.FLEETRUN_OSS_ENDPOINT });
}
