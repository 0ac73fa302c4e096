/**
 * The local FC host: serves the functions of an s.yaml the way Function Compute would — each in
 * its own process, with its environment, called with FC's event shapes — and wires their
 * triggers: timers on their cron, EventBridge rules on the local bus, MNS queues as event-streaming
 * sources, HTTP triggers each on its own port (http-trigger.ts) — and, when given access keys, the
 * FC 2.0 InvokeFunction API that `@alicloud/fc2` calls (invoke-api.ts). Trigger kinds it does not
 * serve are listed, not fatal.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import MNSClient from '@alicloud/mns';
import { Cron } from 'croner';
import { z } from 'zod';
import type { EventBus } from '../eventbridge/bus.ts';
import { MnsStreamSource } from '../eventbridge/mns-source.ts';
import { parsePattern } from '../eventbridge/pattern.ts';
import { AsyncInvocationLog } from './async-invocations.ts';
import { FunctionInstance } from './function-instance.ts';
import { startHttpTrigger } from './http-trigger.ts';
import { startInvokeApi } from './invoke-api.ts';
import type { FunctionSpec, SYaml, TriggerSpec } from './s-yaml.ts';

export interface FcHostOptions {
  sYaml: SYaml;
  projectRoot: string;
  /** 'source' runs functions/<name>/index.ts through tsx; 'bundle' the built dist/<name>/index.js, as deployed. */
  mode: 'source' | 'bundle';
  /** Added to every function's s.yaml environment: the local endpoints and keys. */
  env: Record<string, string>;
  /** What FC would hand the function as its role's credentials. */
  credentials: { accessKeyId: string; accessKeySecret: string };
  accountId: string;
  bus: EventBus;
  /** The local MNS, for queue-triggered functions. */
  mns?: { endpoint: string } | undefined;
  /** Timers fire on their cron; off in tests that tick them by hand. */
  timers?: boolean;
  /** HTTP triggers: each served on its own loopback port (functionName → port; 0 or absent = a free one). */
  http?: { ports?: Record<string, number> };
  /**
   * The FC 2.0 InvokeFunction API (`@alicloud/fc2`); not started without it. Async retries follow the
   * function's `asyncInvokeConfig.maxAsyncRetryAttempts`, else `maxAsyncRetryAttempts` (FC's default: 3).
   */
  invokeApi?: { port?: number; accessKeys: Record<string, string>; maxAsyncRetryAttempts?: number; asyncRetryDelayMs?: number };
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
  /** `http://127.0.0.1:PORT` of the InvokeFunction API, when `invokeApi` was given. */
  invokeEndpoint?: string;
  /** Async invocations the InvokeFunction API accepted, and how each ended. */
  asyncInvocations: AsyncInvocationLog;
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

export async function startFcHost(o: FcHostOptions): Promise<FcHost> {
  const functions = new Map<string, FunctionInstance>();
  const byResource = new Map<string, string>();
  const skipped: string[] = [];
  const stops: (() => void | Promise<void>)[] = [];
  const sources: MnsStreamSource[] = [];
  const timers = new Map<string, TriggerSpec[]>();
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

  const timerEvent = (t: TriggerSpec) => ({ triggerTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), triggerName: t.triggerName, payload: String(t.triggerConfig.payload ?? '') });

  for (const spec of o.sYaml.functions) {
    const p = spec.props;
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
          ALIBABA_CLOUD_ACCESS_KEY_ID: o.credentials.accessKeyId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: o.credentials.accessKeySecret,
        },
        timeoutSeconds: p.timeout,
        concurrency: Math.max(1, p.instanceConcurrency),
        context: { credentials: o.credentials, region: p.region, accountId: o.accountId, memory: p.memorySize ?? 512, handler: p.handler },
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
        if (kind === 'Default') {
          o.bus.addRule({ name: label, pattern: parsePattern(String(config.eventRuleFilterPattern ?? '{}')), target: (event) => invoke(p.functionName, event) });
          continue;
        }
        if (kind === 'MNS' && mns) {
          const params = source.eventSourceParameters?.sourceMNSParameters ?? {};
          const run = (config.runOptions as { batchWindow?: { CountBasedWindow?: number; TimeBasedWindow?: number }; retryStrategy?: { MaximumRetryAttempts?: number }; deadLetterQueue?: { Arn?: string } } | undefined) ?? {};
          const dlq = run.deadLetterQueue?.Arn ? /\/queues\/([^/]+)$/.exec(run.deadLetterQueue.Arn)?.[1] : undefined;
          const src = new MnsStreamSource({
            client: mns,
            queueName: String(params.QueueName),
            sourceName: `MNS-${p.functionName}-${t.triggerName}`,
            region: p.region,
            accountId: o.accountId,
            // CountBasedWindow is 1 to 10,000; a push is filled by as many receives (≤16 each) as it takes.
            countWindow: Math.max(1, Math.min(10_000, run.batchWindow?.CountBasedWindow ?? 1)),
            timeWindowSeconds: run.batchWindow?.TimeBasedWindow ?? 0,
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
        invoke: invokeWithId,
        maxAsyncRetries: (name) => asyncRetries.get(name) ?? settings.maxAsyncRetryAttempts ?? 3,
        ...(settings.asyncRetryDelayMs !== undefined ? { asyncRetryDelayMs: settings.asyncRetryDelayMs } : {}),
        asyncInvocations,
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
    async fireTimer(functionName, triggerName) {
      const t = (timers.get(functionName) ?? []).find((x) => !triggerName || x.triggerName === triggerName);
      if (!t) throw new Error(`${functionName} has no timer trigger${triggerName ? ` ${triggerName}` : ''}`);
      return invoke(functionName, timerEvent(t));
    },
    async close() {
      await Promise.all(stops.map((s) => s()));
      await Promise.all([...functions.values()].map((f) => f.close()));
    },
  };
}
