/**
 * The local FC host: serves the functions of an s.yaml the way Function Compute would — each in
 * its own process, with its environment, called with FC's event shapes — and wires their
 * triggers: timers on their cron, EventBridge rules on the local bus, MNS queues as event-streaming
 * sources. HTTP triggers and the InvokeFunction API arrive with the ChatOps issue; trigger kinds it
 * does not serve are listed, not fatal.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import MNSClient from '@alicloud/mns';
import { Cron } from 'croner';
import type { EventBus } from '../eventbridge/bus.ts';
import { MnsStreamSource } from '../eventbridge/mns-source.ts';
import { parsePattern } from '../eventbridge/pattern.ts';
import { FunctionInstance } from './function-instance.ts';
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
  close(): Promise<void>;
}

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

  const invoke = async (functionName: string, payload: unknown): Promise<unknown> => {
    const fn = functions.get(functionName);
    if (!fn) throw new Error(`no function ${functionName}`);
    const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
    return fn.invoke(body, randomUUID());
  };

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

    for (const t of p.triggers) {
      const label = `${p.functionName}/${t.triggerName}`;
      const config = t.triggerConfig as Record<string, unknown>;
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
            countWindow: Math.max(1, Math.min(16, run.batchWindow?.CountBasedWindow ?? 1)),
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

  return {
    functions,
    byResource,
    invoke,
    sources,
    skipped,
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
