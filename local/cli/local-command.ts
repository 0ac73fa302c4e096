/** `fleetrun local`: runs the local cloud until Ctrl-C / SIGTERM, then stops it leaving no process behind. */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { faultConfigSchema, type FaultConfigInput } from '../ecs/faults.ts';
import { loadFleet } from '../ecs/fleet.ts';
import path from 'node:path';
import { PROJECT_ROOT, startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../local-cloud.ts';
import { defaultTriggerBatchWindowFromEnv, delaysFromEnv, describeDelays } from '../delay-env.ts';
import { parseAccessKeys, UsageError } from './access-keys.ts';

export const DEMO_FLEET = fileURLToPath(new URL('../demo/fleet.yaml', import.meta.url));

export const LOCAL_HELP = `Usage: fleetrun local [options]

Runs the local cloud on 127.0.0.1 — ECS Cloud Assistant, OSS, MNS, the event bus and the FC host
serving s.yaml's functions — and prints one line per service with its endpoint.

Options:
  --fleet FILE             fleet file (YAML); default: the demo fleet
  --ecs-port N             port of the ECS Cloud Assistant endpoint (default 0: any free port)
  --oss-port N, --mns-port N   ports of the OSS and MNS endpoints (default 0)
  --s-yaml FILE            the deployment whose functions to serve (default: the project's s.yaml)
  --no-functions           serve only the cloud services, no functions
  --data DIR               where OSS objects and MNS messages are kept (default: a temporary folder)
  --faults JSON            ECS fault injection, e.g. '{"throttleRate":0.3,"errorRate":0.05,"latencyMs":50,
                           "rateLimitPerSecond":20,"errorAfterApplyRate":0.1,"retryAfterMs":100}'
  --access-key ID:SECRET   an access key the services accept (repeatable); default: the demo key,
                           or FLEETRUN_ACCESS_KEY_ID / FLEETRUN_ACCESS_KEY_SECRET
  --region ID              region the services answer for (default cn-hangzhou)
  --sandbox DIR            where instance sandboxes live (default: a temporary folder)
  --quiet                  no per-request log lines
  -h, --help               this text

Environment (delays the real cloud has but documents nowhere; off by default):
  FLEETRUN_LOCAL_DELAY_EVENTBRIDGE     each TaskCompleted event's way to its rules, e.g. lognormal:1s,p95=3s
  FLEETRUN_LOCAL_DELAY_EVENTSTREAMING  each MNS message's way to the event-streaming source, e.g. 500ms
  FLEETRUN_LOCAL_DELAY_OUTPUTOBJECT    an output object's landing after its event, e.g. uniform:0-2s
  FLEETRUN_LOCAL_DELAY_SEED            the seed of their draws (a whole number)
  FLEETRUN_LOCAL_DEFAULT_TRIGGER_BATCH_WINDOW  ignored: Default triggers take one event per call
                                       whatever their batchWindow (default honoured)`;

export interface LocalCommandOptions {
  fleet: string;
  faults?: FaultConfigInput;
  ports: { ecs: number; oss: number; mns: number };
  sYaml: string | undefined;
  dataDir?: string;
  accessKeys: Record<string, string>;
  regionId: string;
  sandboxRoot?: string;
  quiet: boolean;
  delays?: LocalCloudOptions['delays'];
  defaultTriggerBatchWindow?: 'honoured' | 'ignored';
}

export function parseLocalArgs(argv: string[], env: Record<string, string | undefined> = process.env): LocalCommandOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      fleet: { type: 'string' },
      'ecs-port': { type: 'string' },
      'oss-port': { type: 'string' },
      'mns-port': { type: 'string' },
      's-yaml': { type: 'string' },
      'no-functions': { type: 'boolean' },
      data: { type: 'string' },
      faults: { type: 'string' },
      'access-key': { type: 'string', multiple: true },
      region: { type: 'string' },
      sandbox: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const port = (name: 'ecs-port' | 'oss-port' | 'mns-port') => {
    const n = Number(values[name] ?? 0);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name} wants a port number 0-65535 (got ${values[name]})`);
    return n;
  };
  return {
    fleet: values.fleet ?? DEMO_FLEET,
    ports: { ecs: port('ecs-port'), oss: port('oss-port'), mns: port('mns-port') },
    sYaml: values['no-functions'] ? undefined : (values['s-yaml'] ?? path.join(PROJECT_ROOT, 's.yaml')),
    ...(values.data ? { dataDir: values.data } : {}),
    ...(values.faults ? { faults: parseFaults(values.faults) } : {}),
    accessKeys: parseAccessKeys(values['access-key'] ?? []),
    regionId: values.region ?? 'cn-hangzhou',
    ...(values.sandbox ? { sandboxRoot: values.sandbox } : {}),
    quiet: values.quiet ?? false,
    ...fromEnv(env),
  };
}

function fromEnv(env: Record<string, string | undefined>): Pick<LocalCommandOptions, 'delays' | 'defaultTriggerBatchWindow'> {
  try {
    const delays = delaysFromEnv(env);
    const batching = defaultTriggerBatchWindowFromEnv(env);
    return { ...(delays ? { delays } : {}), ...(batching ? { defaultTriggerBatchWindow: batching } : {}) };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function parseFaults(text: string): FaultConfigInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('--faults wants a JSON object, e.g. \'{"throttleRate":0.3}\'');
  }
  const parsed = faultConfigSchema.safeParse(value);
  if (!parsed.success) throw new UsageError(`--faults: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return value as FaultConfigInput;
}

/** Starts the cloud and prints its services; the caller decides how long it lives. */
export async function startFromOptions(o: LocalCommandOptions, print: (line: string) => void = console.log): Promise<LocalCloud> {
  const fleet = await loadFleet(o.fleet);
  const cloud = await startLocalCloud({
    fleet,
    accessKeys: o.accessKeys,
    regionId: o.regionId,
    ports: o.ports,
    ...(o.sYaml ? { sYamlPath: o.sYaml } : {}),
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
    ...(o.faults ? { ecs: { faults: o.faults } } : {}),
    ...(o.sandboxRoot ? { sandboxRoot: o.sandboxRoot } : {}),
    ...(o.delays ? { delays: o.delays } : {}),
    ...(o.defaultTriggerBatchWindow ? { defaultTriggerBatchWindow: o.defaultTriggerBatchWindow } : {}),
    ...(o.quiet ? {} : { log: print }),
  });
  for (const s of cloud.services) print(`${s.name.padEnd(6)} ${s.endpoint}`);
  // Key ids only: a secret never goes to a log line.
  if (o.delays) print(`delays ${describeDelays(o.delays)} (FLEETRUN_LOCAL_DELAY_*)`);
  if (o.defaultTriggerBatchWindow === 'ignored') print('batch  Default triggers ignore their batchWindow (FLEETRUN_LOCAL_DEFAULT_TRIGGER_BATCH_WINDOW)');
  print(`fleet  ${fleet.length} instances from ${o.fleet}; region ${o.regionId}; access keys: ${Object.keys(o.accessKeys).join(', ')}`);
  return cloud;
}

/** Resolves when the process is told to stop; closes the cloud first. */
export function closeOnSignals(cloud: LocalCloud): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const stop = (signal: string) => {
      if (closing) return;
      closing = true;
      console.log(`\n${signal}: stopping the local cloud`);
      void cloud.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
