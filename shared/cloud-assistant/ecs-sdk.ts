/**
 * Loads `@alicloud/ecs20140526` on first use. The SDK is about 6 MB and ~300 ms to load
 * (docs/platform-facts.md §10), so functions that only sometimes call ECS do not pay for it at cold start.
 */
import type * as EcsModule from '@alicloud/ecs20140526';

export interface EcsClientConfig {
  regionId: string;
  /** `host:port` without a scheme, e.g. the local emulator's `127.0.0.1:PORT`; the regional endpoint when omitted. */
  endpoint?: string | undefined;
  /** The emulator speaks plain HTTP; the SDK would otherwise use HTTPS (docs/platform-facts.md §4.1). */
  protocol?: 'http' | 'https' | undefined;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined };
  /** The SDK's own default is 3 s (docs/platform-facts.md §4.7); a busy service can take longer. */
  readTimeoutMs?: number | undefined;
  connectTimeoutMs?: number | undefined;
  /** 'v2' selects the legacy RPC signature; the default is ACS3-HMAC-SHA256. */
  signatureAlgorithm?: 'v2' | undefined;
}

/** The SDK's request model classes (`RunCommandRequest`, …). */
export type EcsSdk = typeof EcsModule;
/** The SDK client: the methods fleetrun calls. */
type EcsClientConstructor = EcsSdk['default']['default'];
export type EcsClient = InstanceType<EcsClientConstructor>;

let loading: Promise<{ sdk: EcsSdk; Client: EcsClientConstructor; Config: new (m: Record<string, unknown>) => unknown }> | undefined;

async function load() {
  loading ??= (async () => {
    // A separate file in the deployment (scripts/build.ts); under CommonJS interop its exports may sit on `default`.
    const vendor = (await import('./ecs-sdk-vendor.ts')) as unknown as { ecs?: unknown; core?: unknown; default?: { ecs: unknown; core: unknown } };
    const sdk = (vendor.ecs ?? vendor.default!.ecs) as typeof import('@alicloud/ecs20140526');
    const core = (vendor.core ?? vendor.default!.core) as typeof import('@alicloud/openapi-core');
    // Native ESM sees the CommonJS exports object as `default`; bundlers and vitest see the class.
    const candidate = (sdk as unknown as { default: { default?: unknown } }).default;
    const Client = (typeof candidate === 'function' ? candidate : candidate.default) as EcsClientConstructor;
    const coreModule = core as unknown as { $OpenApiUtil?: { Config: new (m: Record<string, unknown>) => unknown }; default?: { $OpenApiUtil: { Config: new (m: Record<string, unknown>) => unknown } } };
    const Config = (coreModule.$OpenApiUtil ?? coreModule.default!.$OpenApiUtil).Config;
    return { sdk: sdk as unknown as EcsSdk, Client, Config };
  })();
  return loading;
}

/** Builds an ECS client and the SDK's model classes; the SDK loads on the first call. */
export async function createEcsClient(config: EcsClientConfig): Promise<{ client: EcsClient; sdk: EcsSdk }> {
  const { sdk, Client, Config } = await load();
  const client = new Client(
    new Config({
      accessKeyId: config.credentials.accessKeyId,
      accessKeySecret: config.credentials.accessKeySecret,
      securityToken: config.credentials.securityToken,
      regionId: config.regionId,
      endpoint: config.endpoint,
      protocol: config.protocol,
      readTimeout: config.readTimeoutMs ?? 10_000,
      connectTimeout: config.connectTimeoutMs ?? 5_000,
      signatureAlgorithm: config.signatureAlgorithm,
    }) as ConstructorParameters<EcsClientConstructor>[0],
  );
  return { client, sdk };
}
