/**
 * The local FC host: serves the functions of an s.yaml the way Function Compute 3.0 would — each
 * instance in its own process, scaled out per concurrent invocation, with its environment and its
 * role's credentials, called with FC's event shapes — and wires their triggers: timers on their
 * cron, EventBridge rules on the local bus, MNS queues as event-streaming sources, HTTP triggers
 * each on its own port (http-trigger.ts) — and, when given access keys, the InvokeFunction APIs
 * (invoke-api.ts): FC 3.0's, which `@alicloud/fc20230330` calls, and FC 2.0's for the services an
 * FC 2.0 deployment declares. A function FC 3.0 would refuse (fc3-rules.ts) is refused; trigger
 * kinds the host does not serve are listed, not fatal.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import MNSClient from '@alicloud/mns';
import { Cron } from 'croner';
import { z } from 'zod';
import { delaySampler, type DelayDistribution } from '../delay-distribution.ts';
import type { EventBus } from '../eventbridge/bus.ts';
import { MnsStreamSource } from '../eventbridge/mns-source.ts';
import { parsePattern } from '../eventbridge/pattern.ts';
import type { Authorize } from '../ram/access.ts';
import { seededRandom } from '../seeded-random.ts';
import { AsyncInvocationLog } from './async-invocations.ts';
import { checkFc3Function, checkFc3Triggers, invocationBodyLimit, isCustomRuntime, triggerBatchWindow } from './fc3-rules.ts';
import { FunctionInstance } from './function-instance.ts';
import { startHttpTrigger } from './http-trigger.ts';
import { startInvokeApi, type InvokeApiFaults } from './invoke-api.ts';
import type { FunctionSpec, SYaml, TriggerSpec } from './s-yaml.ts';

export interface FcHostOptions {
  sYaml: SYaml;
  projectRoot: string;
  /** 'source' runs functions/<name>/index.ts through tsx; 'bundle' the built dist/<name>/index.js, as deployed. */
  mode: 'source' | 'bundle';
  /** Added to every function's s.yaml environment: the local endpoints and keys. */
  env: Record<string, string>;
  /** What FC would hand every function as its role's credentials, unless `roleCredentials` is given. */
  credentials: { accessKeyId: string; accessKeySecret: string };
  /**
   * The credentials of a function's s.yaml `role` (FC hands a function its role's STS token): env
   * ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN and context.credentials. Throwing
   * refuses the function, naming the role; a function with no role gets no credentials, as on FC.
   * Absent: `credentials` for every function.
   */
  roleCredentials?: (role: string, functionName: string) => { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  /** RAM for the InvokeFunction APIs (`fc:InvokeFunction` on the function's ARN); absent, every signed call is allowed. */
  authorize?: Authorize;
  /**
   * Instances one function may have at once (each serves one invocation at a time; a custom
   * runtime's instanceConcurrency at a time). FC 3.0: an account runs at most 100 instances per
   * region by default, and a function's own limit may be at most 90% of the region's ("Specify the
   * maximum number of instances", FC 3.0 user guide, updated Dec 2025): default 90.
   */
  maxInstancesPerFunction?: number;
  /** Where instances get their working and temporary folders; a fresh temporary folder (removed on close) when omitted. */
  instancesRoot?: string;
  /** Paths every function may write besides its own temporary folder (FC allows only /tmp): for test harnesses' sink files. */
  allowWrite?: string[];
  accountId: string;
  bus: EventBus;
  /** The local MNS, for queue-triggered functions. */
  mns?: { endpoint: string } | undefined;
  /**
   * Whether a Default (Alibaba Cloud service events) trigger's runOptions.batchWindow batches its
   * events: 'honoured' (default) pushes arrays, as FC 3.0's API documents BatchWindow for
   * EventBridge triggers; 'ignored' models a cloud that batches only custom event sources (MNS,
   * RocketMQ, RabbitMQ, Kafka, DTS), as FC's "Advanced features of triggers" page scopes it — one
   * event per invocation whatever the window. Which the cloud does is unconfirmed (docs/platform-facts.md §5.5).
   */
  defaultTriggerBatchWindow?: 'honoured' | 'ignored';
  /** Event streaming's own delivery delay, per MNS message (docs/platform-facts.md §5.6); none by default. */
  eventStreamingDelay?: { distribution: DelayDistribution; seed: number } | undefined;
  /** Timers fire on their cron; off in tests that tick them by hand. */
  timers?: boolean;
  /** HTTP triggers: each served on its own loopback port (functionName → port; 0 or absent = a free one). */
  http?: { ports?: Record<string, number> };
  /**
   * The FC 2.0 InvokeFunction API (`@alicloud/fc2`); not started without it. Async retries follow the
   * function's `asyncInvokeConfig.maxAsyncRetryAttempts`, else `maxAsyncRetryAttempts` (FC's default: 3).
   */
  invokeApi?: {
    port?: number;
    accessKeys: Record<string, string>;
    maxAsyncRetryAttempts?: number;
    asyncRetryDelayMs?: number;
    /** An FC 2.0 API deployment's services (service name → function names); none by default, as an fc3 deployment has none. */
    fc2Services?: Record<string, string[]>;
  };
  log: (line: string) => void;
}

export interface FcHost {
  functions: Map<string, FunctionInstance>;
  /** The resource name in s.yaml → its function name. */
  byResource: Map<string, string>;
  invoke(functionName: string, payload: unknown): Promise<unknown>;
  /** Fires a timer trigger now, as its cron would. */
  fireTimer(functionName: string, triggerName?: string): Promise<unknown>;
  sources: MnsStreamSource[];
  skipped: string[];
  /** functionName → `http://127.0.0.1:PORT` of its HTTP trigger. */
  httpEndpoints: Map<string, string>;
  /** `http://127.0.0.1:PORT` of the InvokeFunction APIs (FC 3.0 and 2.0), when `invokeApi` was given. */
  invokeEndpoint?: string;
  /** Async invocations the InvokeFunction API accepted, and how each ended. */
  asyncInvocations: AsyncInvocationLog;
  /** Faults of the InvokeFunction API, set by tests while it runs. */
  invokeFaults: InvokeApiFaults;
  close(): Promise<void>;
}

const asyncInvokeConfigSchema = z.looseObject({ maxAsyncRetryAttempts: z.coerce.number().int().min(0).max(8).optional() });

function modulePathOf(spec: FunctionSpec, o: FcHostOptions): string {
  const code = typeof spec.props.code === 'string' ? spec.props.code : '';
  const [file = 'index', exportName = 'handler'] = spec.props.handler.split('.');
  void exportName;
  if (o.mode === 'bundle') return path.resolve(o.projectRoot, code, `${file}.js`);
  // Deployed code is dist/<name>; its source is functions/<name>.
  const source = path.resolve(o.projectRoot, 'functions', path.basename(code), `${file}.ts`);
  if (!existsSync(source)) throw new Error(`${spec.props.functionName}: no source at ${source} for code ${code}`);
  return source;
}

/** FC cron is `sec min hour day month weekday` in UTC, or `@every 5m`. */
function everyMs(expr: string): number | undefined {
  const m = /^@every\s+(\d+)(s|m|h)$/.exec(expr.trim());
  return m ? Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'] : undefined;
}

/** FC 3.0's documented default ceiling for one function's instances (90% of the region's 100). */
export const DEFAULT_MAX_INSTANCES_PER_FUNCTION = 90;

/** The function's role credentials, or the host's own; a refusal names the role. */
function credentialsOf(spec: FunctionSpec, o: FcHostOptions): { accessKeyId: string; accessKeySecret: string; securityToken?: string } {
  const p = spec.props;
  if (!o.roleCredentials) return o.credentials;
  // FC gives a function without a role no credentials; its cloud calls then fail as unsigned ones would.
  if (!p.role) return { accessKeyId: '', accessKeySecret: '' };
  try {
    return o.roleCredentials(p.role, p.functionName);
  } catch (e) {
    throw new Error(`function ${p.functionName}: role ${p.role} gives no credentials: ${(e as Error).message}`, { cause: e });
  }
}

export async function startFcHost(o: FcHostOptions): Promise<FcHost> {
  // Every function is checked before any process or server starts: a refused one leaves nothing behind.
  for (const spec of o.sYaml.functions) {
    checkFc3Function(spec.props);
    checkFc3Triggers(spec.props);
  }
  const roleCredentials = new Map(o.sYaml.functions.map((spec) => [spec.props.functionName, credentialsOf(spec, o)]));
  const ownInstancesRoot = o.instancesRoot === undefined;
  const instancesRoot = o.instancesRoot ?? mkdtempSync(path.join(tmpdir(), 'fleetrun-fc-instances-'));
  const functions = new Map<string, FunctionInstance>();
  const byResource = new Map<string, string>();
  const skipped: string[] = [];
  const stops: (() => void | Promise<void>)[] = [];
  const sources: MnsStreamSource[] = [];
  const timers = new Map<string, TriggerSpec[]>();
  // One stream for every source, so a seed repeats the same delays.
  const streamingDelay = o.eventStreamingDelay ? delaySampler(o.eventStreamingDelay.distribution, seededRandom(o.eventStreamingDelay.seed)) : undefined;
  const mns = o.mns ? new MNSClient(o.accountId, { accessKeyId: o.credentials.accessKeyId, accessKeySecret: o.credentials.accessKeySecret, endpoint: o.mns.endpoint }) : undefined;

  const invokeWithId = async (functionName: string, body: Buffer, requestId: string): Promise<unknown> => {
    const fn = functions.get(functionName);
    if (!fn) throw new Error(`no function ${functionName}`);
    return fn.invoke(body, requestId);
  };
  const invoke = async (functionName: string, payload: unknown): Promise<unknown> =>
    invokeWithId(functionName, Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), randomUUID());
  const httpTriggers: { functionName: string; trigger: TriggerSpec }[] = [];
  const asyncRetries = new Map<string, number>();
  const functionRegions = new Map(o.sYaml.functions.map((spec) => [spec.props.functionName, spec.props.region]));

  const timerEvent = (t: TriggerSpec) => ({ triggerTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), triggerName: t.triggerName, payload: String(t.triggerConfig.payload ?? '') });

  for (const spec of o.sYaml.functions) {
    const p = spec.props;
    const credentials = roleCredentials.get(p.functionName)!;
    byResource.set(spec.resource, p.functionName);
    functions.set(
      p.functionName,
      new FunctionInstance({
        functionName: p.functionName,
        modulePath: modulePathOf(spec, o),
        exportName: p.handler.split('.')[1] ?? 'handler',
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          ...p.environmentVariables,
          ...o.env,
          FC_FUNCTION_NAME: p.functionName,
          FC_REGION: p.region,
          FC_ACCOUNT_ID: o.accountId,
          ...(credentials.accessKeyId ? { ALIBABA_CLOUD_ACCESS_KEY_ID: credentials.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: credentials.accessKeySecret } : {}),
          ...(credentials.securityToken ? { ALIBABA_CLOUD_SECURITY_TOKEN: credentials.securityToken } : {}),
          // FC documents FC_FUNC_CODE_PATH as the function's code folder; the code finds its files through it.
          FC_FUNC_CODE_PATH: path.dirname(modulePathOf(spec, o)),
          FC_FUNCTION_HANDLER: p.handler,
          FC_FUNCTION_MEMORY_SIZE: String(p.memorySize ?? 512),
        },
        timeoutSeconds: p.timeout,
        // FC 3.0: one invocation at a time per instance, except on custom runtimes (checked above).
        concurrency: isCustomRuntime(p.runtime) ? Math.max(1, p.instanceConcurrency) : 1,
        maxInstances: o.maxInstancesPerFunction ?? DEFAULT_MAX_INSTANCES_PER_FUNCTION,
        context: { credentials: { ...credentials }, region: p.region, accountId: o.accountId, memory: p.memorySize ?? 512, handler: p.handler },
        instancesRoot: path.join(instancesRoot, p.functionName),
        ...(o.allowWrite ? { allowWrite: o.allowWrite } : {}),
        log: o.log,
      }),
    );

    const asyncConfig = asyncInvokeConfigSchema.safeParse(p.asyncInvokeConfig ?? {});
    if (asyncConfig.success && asyncConfig.data.maxAsyncRetryAttempts !== undefined) asyncRetries.set(p.functionName, asyncConfig.data.maxAsyncRetryAttempts);

    for (const t of p.triggers) {
      const label = `${p.functionName}/${t.triggerName}`;
      const config = t.triggerConfig as Record<string, unknown>;
      // FC allows one HTTP trigger per function: it is the function's address.
      if (t.triggerType === 'http' && !httpTriggers.some((h) => h.functionName === p.functionName)) {
        httpTriggers.push({ functionName: p.functionName, trigger: t });
        continue;
      }
      if (t.triggerType === 'timer') {
        timers.set(p.functionName, [...(timers.get(p.functionName) ?? []), t]);
        if (o.timers === false || config.enable === false) continue;
        const expr = String(config.cronExpression ?? '');
        const every = everyMs(expr);
        const fire = () => void invoke(p.functionName, timerEvent(t)).catch((e: unknown) => o.log(`[fc] timer ${label} failed: ${(e as Error).message}`));
        if (every) {
          const h = setInterval(fire, every);
          stops.push(() => clearInterval(h));
        } else {
          const job = new Cron(expr, { timezone: 'UTC', mode: '6-part' }, fire);
          stops.push(() => job.stop());
        }
        continue;
      }
      if (t.triggerType === 'eventbridge') {
        const source = (config.eventSourceConfig as { eventSourceType?: string; eventSourceParameters?: Record<string, Record<string, unknown>> } | undefined) ?? {};
        const kind = source.eventSourceType ?? 'Default';
        if (config.triggerEnable === false) continue;
        // Checked above (checkFc3Triggers): in range, or the host did not start.
        const window = triggerBatchWindow(p.functionName, t);
        if (kind === 'Default') {
          const batched = window && o.defaultTriggerBatchWindow !== 'ignored';
          o.bus.addRule({
            name: label,
            pattern: parsePattern(String(config.eventRuleFilterPattern ?? '{}')),
            target: (payload) => invoke(p.functionName, payload),
            ...(batched ? { batchWindow: { ...window, maxBodyBytes: invocationBodyLimit(t) } } : {}),
          });
          continue;
        }
        if (kind === 'MNS' && mns) {
          const params = source.eventSourceParameters?.sourceMNSParameters ?? {};
          const run = (config.runOptions as { retryStrategy?: { MaximumRetryAttempts?: number }; deadLetterQueue?: { Arn?: string } } | undefined) ?? {};
          const dlq = run.deadLetterQueue?.Arn ? /\/queues\/([^/]+)$/.exec(run.deadLetterQueue.Arn)?.[1] : undefined;
          const src = new MnsStreamSource({
            client: mns,
            queueName: String(params.QueueName),
            sourceName: `MNS-${p.functionName}-${t.triggerName}`,
            region: p.region,
            accountId: o.accountId,
            // CountBasedWindow is 1 to 10,000; a push is filled by as many receives (≤16 each) as it takes.
            countWindow: window?.countWindow ?? 1,
            timeWindowSeconds: window?.timeWindowSeconds ?? 0,
            maxBodyBytes: invocationBodyLimit(t),
            delay: streamingDelay,
            base64Decode: params.IsBase64Decode !== false,
            maxRetryAttempts: run.retryStrategy?.MaximumRetryAttempts ?? 3,
            deadLetterQueue: dlq,
            target: (events) => invoke(p.functionName, events),
            log: o.log,
          });
          src.start();
          sources.push(src);
          stops.push(() => src.stop());
          continue;
        }
      }
      skipped.push(`${label} (${t.triggerType}${t.triggerType === 'eventbridge' ? `/${String((config.eventSourceConfig as { eventSourceType?: string } | undefined)?.eventSourceType)}` : ''})`);
    }
  }
  for (const s of skipped) o.log(`[fc] not served locally: trigger ${s}`);

  const httpEndpoints = new Map<string, string>();
  const asyncInvocations = new AsyncInvocationLog();
  let invokeEndpoint: string | undefined;
  const invokeFaults: InvokeApiFaults = {};
  try {
    for (const { functionName, trigger } of httpTriggers) {
      const server = await startHttpTrigger({ functionName, trigger, port: o.http?.ports?.[functionName] ?? 0, accountId: o.accountId, invoke: (event, requestId) => invokeWithId(functionName, event, requestId), log: o.log });
      stops.push(() => server.close());
      httpEndpoints.set(functionName, server.endpoint);
      o.log(`[fc] http trigger ${functionName}/${trigger.triggerName} on ${server.endpoint}`);
    }
    if (o.invokeApi) {
      const settings = o.invokeApi;
      const api = await startInvokeApi({
        port: settings.port ?? 0,
        accessKeys: settings.accessKeys,
        hasFunction: (name) => functions.has(name),
        ...(settings.fc2Services ? { fc2Services: settings.fc2Services } : {}),
        // FC 3.0's function ARN. The InvokeFunction API page lists its resource type as "All
        // Resources" (a policy with Resource "*" always matches); this ARN is the function form
        // of FC 3.0's RAM authorization page, so a policy naming functions matches too.
        functionArn: (name) => `acs:fc:${functionRegions.get(name) ?? o.sYaml.functions[0]?.props.region ?? '*'}:${o.accountId}:functions/${name}`,
        ...(o.authorize ? { authorize: o.authorize } : {}),
        invoke: invokeWithId,
        maxAsyncRetries: (name) => asyncRetries.get(name) ?? settings.maxAsyncRetryAttempts ?? 3,
        ...(settings.asyncRetryDelayMs !== undefined ? { asyncRetryDelayMs: settings.asyncRetryDelayMs } : {}),
        asyncInvocations,
        faults: invokeFaults,
        log: o.log,
      });
      stops.push(() => api.close());
      invokeEndpoint = api.endpoint;
      // Functions that invoke others (chatops → dispatch) learn where the API is; their workers start lazily.
      for (const f of functions.values()) f.options.env.FLEETRUN_FC_ENDPOINT = api.endpoint;
      o.log(`[fc] InvokeFunction API on ${api.endpoint}`);
    }
  } catch (e) {
    // A port already taken: stop what started, so a failed start leaves no process or server behind.
    await Promise.all(stops.map((s) => s()));
    await Promise.all([...functions.values()].map((f) => f.close()));
    if (ownInstancesRoot) rmSync(instancesRoot, { recursive: true, force: true });
    throw e;
  }

  return {
    functions,
    byResource,
    invoke,
    sources,
    skipped,
    httpEndpoints,
    ...(invokeEndpoint ? { invokeEndpoint } : {}),
    asyncInvocations,
    invokeFaults,
    async fireTimer(functionName, triggerName) {
      const t = (timers.get(functionName) ?? []).find((x) => !triggerName || x.triggerName === triggerName);
      if (!t) throw new Error(`${functionName} has no timer trigger${triggerName ? ` ${triggerName}` : ''}`);
      return invoke(functionName, timerEvent(t));
    },
    async close() {
      await Promise.all(stops.map((s) => s()));
      await Promise.all([...functions.values()].map((f) => f.close()));
      if (ownInstancesRoot) rmSync(instancesRoot, { recursive: true, force: true });
    },
  };
}
