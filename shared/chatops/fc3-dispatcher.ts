/**
 * The Dispatcher on the FC 3.0 API (`@alicloud/fc20230330`): an asynchronous InvokeFunction of the
 * dispatch function by its name (`POST /2023-03-30/functions/<name>/invocations` with
 * `x-fc-invocation-type: Async`), so the chat webhook answers within its 3 s while dispatch fans
 * out at its own pace. FC 3.0 functions belong to no service, so this is the hand-off an fc3
 * deployment can take; fc2-dispatcher.ts stays for deployments on the FC 2.0 API.
 *
 * The SDK (with `@alicloud/openapi-core` under it) loads on the first hand-off, from a file of its
 * own in the deployment (fc3-sdk-vendor.ts), not at cold start: most chat requests (help, status,
 * refusals) never dispatch.
 */
import { Readable } from 'node:stream';
import type * as Fc3Module from '@alicloud/fc20230330';
import type { Credentials } from '../runtime/context.ts';
import { DispatchError } from './fc2-dispatcher.ts';
import type { Dispatcher, DispatchRequest } from './dispatch-request.ts';
import { sentAgainAfterReset } from '../runtime/sent-again-after-reset.ts';

export interface Fc3DispatcherOptions {
  accountId: string;
  region: string;
  functionName: string;
  credentials: Credentials;
  /**
   * The FC API endpoint: `http://host:port` / `https://host` (the scheme chooses the protocol) or a
   * bare host (HTTPS). FC's own, `<accountId>.<region>.fc.aliyuncs.com` over HTTPS, when omitted.
   */
  endpoint?: string | undefined;
}

type Fc3 = typeof Fc3Module;
/** The client class (the CommonJS module's `default` export, as TypeScript types it). */
type Fc3ClientClass = Fc3['default']['default'];
type Fc3Client = InstanceType<Fc3ClientClass>;

let loading: Promise<{ sdk: Fc3; Client: Fc3ClientClass; Config: new (m: Record<string, unknown>) => unknown; RuntimeOptions: new (m: Record<string, unknown>) => unknown }> | undefined;

function load() {
  loading ??= (async () => {
    // A separate file in the deployment (scripts/build.ts); under CommonJS interop its exports may sit on `default`.
    const vendor = (await import('./fc3-sdk-vendor.ts')) as unknown as { fc3?: unknown; core?: unknown; dara?: unknown; default?: { fc3: unknown; core: unknown; dara: unknown } };
    const sdk = (vendor.fc3 ?? vendor.default!.fc3) as Fc3;
    const core = vendor.core ?? vendor.default!.core;
    const dara = vendor.dara ?? vendor.default!.dara;
    // Native ESM sees the CommonJS exports object as `default`; bundlers and vitest see the class.
    const candidate = (sdk as unknown as { default: { default?: unknown } }).default;
    const Client = (typeof candidate === 'function' ? candidate : candidate.default) as Fc3ClientClass;
    const coreModule = core as unknown as { $OpenApiUtil?: { Config: new (m: Record<string, unknown>) => unknown }; default?: { $OpenApiUtil: { Config: new (m: Record<string, unknown>) => unknown } } };
    const daraModule = dara as unknown as { RuntimeOptions?: new (m: Record<string, unknown>) => unknown; default?: { RuntimeOptions: new (m: Record<string, unknown>) => unknown } };
    return {
      sdk: ((sdk as unknown as { InvokeFunctionRequest?: unknown }).InvokeFunctionRequest ? sdk : (sdk as unknown as { default: Fc3 }).default) as Fc3,
      Client,
      Config: (coreModule.$OpenApiUtil ?? coreModule.default!.$OpenApiUtil).Config,
      RuntimeOptions: (daraModule.RuntimeOptions ?? daraModule.default!.RuntimeOptions)!,
    };
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}

/** `http://127.0.0.1:9000` → endpoint `127.0.0.1:9000`, protocol http: the form openapi-core wants. */
export function fc3EndpointOf(options: Pick<Fc3DispatcherOptions, 'endpoint' | 'accountId' | 'region'>): { endpoint: string; protocol: 'http' | 'https' } {
  const given = options.endpoint?.trim();
  if (!given) return { endpoint: `${options.accountId}.${options.region}.fc.aliyuncs.com`, protocol: 'https' };
  const m = /^(https?):\/\/([^/]+)\/?$/i.exec(given);
  return m ? { endpoint: m[2]!, protocol: m[1]!.toLowerCase() as 'http' | 'https' } : { endpoint: given.replace(/\/$/, ''), protocol: 'https' };
}

export function fc3Dispatcher(options: Fc3DispatcherOptions): Dispatcher {
  let client: Promise<{ client: Fc3Client; sdk: Fc3; runtime: unknown }> | undefined;
  const connect = () => {
    client ??= load().then(({ sdk, Client, Config, RuntimeOptions }) => {
      const { endpoint, protocol } = fc3EndpointOf(options);
      const config = new Config({
        accessKeyId: options.credentials.accessKeyId,
        accessKeySecret: options.credentials.accessKeySecret,
        securityToken: options.credentials.securityToken,
        regionId: options.region,
        endpoint,
        protocol,
        readTimeout: 10_000,
        connectTimeout: 5_000,
      });
      return { client: new Client(config as ConstructorParameters<Fc3ClientClass>[0]), sdk, runtime: new RuntimeOptions({}) };
    });
    client.catch(() => (client = undefined));
    return client;
  };
  return {
    async dispatch(request: DispatchRequest): Promise<void> {
      try {
        const { client: fc, sdk, runtime } = await connect();
        const body = Buffer.from(JSON.stringify(request));
        // A second asynchronous invocation, should the first have been taken after all, has the first's
        // effect only: dispatch's writes are create-once and its RunCommand calls carry ClientTokens.
        await sentAgainAfterReset(() =>
          fc.invokeFunctionWithOptions(
            options.functionName,
            // A stream is read once: each attempt gets its own.
            new sdk.InvokeFunctionRequest({ body: Readable.from([body]) }),
            new sdk.InvokeFunctionHeaders({ xFcInvocationType: 'Async' }),
            runtime as Parameters<Fc3Client['invokeFunctionWithOptions']>[3],
          ),
        );
      } catch (e) {
        throw new DispatchError(`could not hand run ${request.runId} to ${options.functionName}: ${(e as Error).name}${(e as { code?: string }).code ? ` ${(e as { code?: string }).code}` : ''}`, { cause: e });
      }
    },
  };
}
