/**
 * Where `fleetrun runs` and `fleetrun report` read: the runs bucket of a deployment, or of the
 * local cloud `npm start` runs. A deployment is named by the variables its functions have
 * (FLEETRUN_BUCKET, FLEETRUN_REGION, FLEETRUN_OSS_ENDPOINT) and read with an access key that may
 * read the bucket (FLEETRUN_ACCESS_KEY_ID/SECRET, or the Alibaba Cloud SDKs' own
 * ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET and ALIBABA_CLOUD_SECURITY_TOKEN); from a laptop the bucket's
 * public endpoint, since the internal one resolves only inside the region. Without FLEETRUN_BUCKET,
 * the local cloud `npm start` wrote to .fleetrun/local.json, with the demo key it accepts.
 */
import { readFile } from 'node:fs/promises';
import { ossEndpoints } from '../../shared/config/endpoints.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import type { ObjectStore } from '../../shared/store/port.ts';
import { DEMO_ACCESS_KEY, UsageError } from './access-keys.ts';
import { LOCAL_STATE_FILE } from './chat-command.ts';

/** What `npm start` writes for the commands that reach its local cloud. */
export interface LocalState {
  chatUrl?: string;
  ossEndpoint?: string;
  bucket?: string;
  region?: string;
}

export interface RunsBucket {
  store: ObjectStore;
  /** `fleetrun-runs on http://127.0.0.1:…`, for messages. */
  where: string;
  /** chatops' public URL, for report links (FLEETRUN_PUBLIC_URL; the local cloud's chatops). */
  publicUrl?: string | undefined;
  /** FLEETRUN_SEAL_KEY: with the public URL, report links are chatops' own. */
  sealKey?: string | undefined;
}

export async function readLocalState(file = LOCAL_STATE_FILE): Promise<LocalState> {
  const text = await readFile(file, 'utf8').catch(() => '{}');
  try {
    return JSON.parse(text) as LocalState;
  } catch {
    return {};
  }
}

const nonEmpty = (v: string | undefined) => (v && v.trim() !== '' ? v.trim() : undefined);

export function runsBucketFrom(env: Readonly<Record<string, string | undefined>>, local: LocalState): RunsBucket {
  const publicUrl = nonEmpty(env.FLEETRUN_PUBLIC_URL) ?? nonEmpty(env.FLEETRUN_BUCKET ? undefined : local.chatUrl);
  const sealKey = nonEmpty(env.FLEETRUN_SEAL_KEY);
  const bucket = nonEmpty(env.FLEETRUN_BUCKET);
  if (bucket) {
    const region = nonEmpty(env.FLEETRUN_REGION) ?? 'cn-hangzhou';
    const id = nonEmpty(env.FLEETRUN_ACCESS_KEY_ID) ?? nonEmpty(env.ALIBABA_CLOUD_ACCESS_KEY_ID);
    const secret = nonEmpty(env.FLEETRUN_ACCESS_KEY_SECRET) ?? nonEmpty(env.ALIBABA_CLOUD_ACCESS_KEY_SECRET);
    if (!id || !secret) throw new UsageError(`reading bucket ${bucket} takes an access key: set FLEETRUN_ACCESS_KEY_ID and FLEETRUN_ACCESS_KEY_SECRET (or ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET)`);
    const token = env.FLEETRUN_ACCESS_KEY_ID ? undefined : nonEmpty(env.ALIBABA_CLOUD_SECURITY_TOKEN);
    // A tool is rarely in the bucket's region: the public endpoint unless told otherwise.
    const { endpoint, publicEndpoint } = ossEndpoints({ FLEETRUN_REGION: region, FLEETRUN_ACCOUNT_ID: '', FLEETRUN_OSS_ENDPOINT: nonEmpty(env.FLEETRUN_OSS_ENDPOINT), FLEETRUN_OSS_INTERNAL: env.FLEETRUN_OSS_INTERNAL === 'true' });
    const store = new AliOssStore({ bucket, region: `oss-${region}`, credentials: { accessKeyId: id, accessKeySecret: secret, ...(token ? { securityToken: token } : {}) }, endpoint, publicEndpoint });
    return { store, where: `${bucket} on ${endpoint}`, publicUrl, sealKey };
  }
  if (local.ossEndpoint && local.bucket) {
    const id = nonEmpty(env.FLEETRUN_ACCESS_KEY_ID) ?? DEMO_ACCESS_KEY.id;
    const secret = nonEmpty(env.FLEETRUN_ACCESS_KEY_SECRET) ?? DEMO_ACCESS_KEY.secret;
    const store = new AliOssStore({ bucket: local.bucket, region: `oss-${local.region ?? 'cn-hangzhou'}`, credentials: { accessKeyId: id, accessKeySecret: secret }, endpoint: local.ossEndpoint });
    return { store, where: `${local.bucket} on ${local.ossEndpoint} (the local cloud)`, publicUrl, sealKey };
  }
  throw new UsageError('no runs bucket: start the local cloud with npm start, or set FLEETRUN_BUCKET (and an access key) to read a deployed one');
}
