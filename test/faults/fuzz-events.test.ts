/**
 * Bad input at the event door: 10,000 generated payloads go to the task-events function's exported
 * handler in-process (its real clients: the local OSS, MNS and ECS), and a few hundred more through
 * the local FC host to the function's own process — arbitrary JSON, near-valid CloudEvents with
 * wrong types and sources, missing and mistyped fields, bad ids, fleetrun command names of runs
 * that do not exist, and events of a run that does exist for instances it never targeted, alone
 * and in event-streaming batches. Each event is skipped with its reason logged, or the payload is
 * rejected (non-JSON, or a run whose manifest is not there); nothing else is thrown, no message
 * reaches MNS and no ECS call is made. A genuine event at the end proves both would have been seen.
 */
import fc from 'fast-check';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTANCE_STATUSES } from '../../shared/cloud-assistant/statuses.ts';
import { TASK_COMPLETED_TYPE } from '../../shared/events/task-completed.ts';
import { commandNameFor, RUN_ID, runKeys } from '../../shared/runs/keys.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { parseFleet } from '../../local/ecs/fleet.ts';
import { InvocationError } from '../../local/fc/function-instance.ts';
import { PROJECT_ROOT, startLocalCloud, type LocalCloud } from '../../local/local-cloud.ts';
import { filesUnder } from '../support/secret-scan.ts';
import { stdoutCapture } from '../support/stdout-capture.ts';

const IN_PROCESS = 10_000;
const THROUGH_HOST = 300;
const KEY = { id: 'fuzz-events-key', secret: 'fuzz-events-secret-value-01' };
/** A run that exists (its manifest is in the bucket), and the only instances it targets. */
const KNOWN_RUN = 'r-20261123t000000-f0e1d2';
const KNOWN_TARGETS = ['i-bp1known00000001', 'i-bp1known00000002'];
const KNOWN_COMMAND = 'c-known0fuzz0001';
/**
 * Why an invocation may fail: the payload is not JSON (EventPayloadError), or some of its events
 * name a run with no manifest (TaskEventsFailedError, naming each with its ManifestMissingError).
 */
const REJECTIONS = new Set(['EventPayloadError', 'TaskEventsFailedError']);

type TaskEventsHandler = (event: Buffer, context: unknown) => Promise<{ sent: number; skipped: { id: string; reason: string }[] }>;

let cloud: LocalCloud;
let dataDir: string;
let handler: TaskEventsHandler;
const fcContext = { requestId: 'fuzz-events', credentials: { accessKeyId: KEY.id, accessKeySecret: KEY.secret }, function: { name: 'fleetrun-task-events' }, region: 'cn-hangzhou', accountId: '1234567890123456' };

/** The function logs to stdout, as on FC; in-process its lines are caught here. */
const stdout = stdoutCapture();

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-fuzz-events-'));
  cloud = await startLocalCloud({
    fleet: parseFleet(`instances:\n${KNOWN_TARGETS.map((id) => `  - { id: ${id}, tags: { env: fuzz } }`).join('\n')}\n`),
    accessKeys: { [KEY.id]: KEY.secret },
    sYamlPath: path.join(PROJECT_ROOT, 's.yaml'),
    timers: false,
    dataDir,
    // Outputs are fetched from ECS, so an event that got as far as fetching one would show as a call.
    functionEnv: { FLEETRUN_OUTPUT_BUCKET: '' },
  });
  const store = new AliOssStore({ bucket: 'fleetrun-runs', region: 'oss-cn-hangzhou', credentials: { accessKeyId: KEY.id, accessKeySecret: KEY.secret }, endpoint: cloud.oss.endpoint });
  const manifest = runManifestSchema.parse({
    version: 1,
    runId: KNOWN_RUN,
    createdAt: new Date().toISOString(),
    requestedBy: { kind: 'cli', user: 'fuzz' },
    command: { name: 'known', type: 'RunShellScript', timeoutSeconds: 60 },
    targets: KNOWN_TARGETS,
    invocations: [{ invokeId: 't-known0fuzz0001', commandId: KNOWN_COMMAND, instanceIds: KNOWN_TARGETS }],
    output: { mode: 'fetch' },
  });
  await store.put(runKeys.manifest(KNOWN_RUN), JSON.stringify(manifest), { contentType: 'application/json' });

  const env = cloud.fc!.functions.get('fleetrun-task-events')!.options.env;
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    handler = ((await import('../../functions/task-events/index.ts')) as { handler: TaskEventsHandler }).handler;
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}, 60_000);

afterAll(async () => {
  stdout.capture(false);
  await cloud?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const anyText = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('', ' ', '\u0000', '__proto__', 'constructor', 'x'.repeat(3000)));
const anyValue = fc.oneof(anyText, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
const KEEP = Symbol('keep');
/** Now and then a value of the wrong type. */
const maybeWrong = <T>(arb: fc.Arbitrary<T>) => fc.tuple(arb, fc.oneof({ weight: 12, arbitrary: fc.constant<typeof KEEP>(KEEP) }, anyValue)).map(([v, w]) => (w === KEEP ? v : w));

const unknownRun = fc.stringMatching(RUN_ID).filter((r) => r !== KNOWN_RUN);
const runId = fc.oneof({ weight: 3, arbitrary: fc.constant(KNOWN_RUN) }, { weight: 2, arbitrary: unknownRun }, anyText);
const commandName = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(runId, fc.constantFrom('uptime', '', 'x:y', 'disk-check')).map(([r, n]) => `fleetrun:${r}:${n}`) },
  fc.constantFrom('', 'fleetrun:', 'fleetrun::', 'fleetrun:r-:x', 'FLEETRUN:r-20261123t000000-f0e1d2:x', 'other-tool-command', 'fleetrun'),
  anyText,
);
/** Never one of the known run's targets: an event for one of those would be genuine. */
const instanceId = fc.oneof(fc.stringMatching(/^i-[a-z0-9]{4,20}$/), fc.constantFrom('', 'i-', ...KNOWN_TARGETS.map((t) => `${t} `), KNOWN_TARGETS[0]!.toUpperCase()), anyText).filter((i) => !KNOWN_TARGETS.includes(i));
const data = fc.record(
  {
    commandId: maybeWrong(fc.oneof(fc.constant(KNOWN_COMMAND), fc.stringMatching(/^c-[a-z0-9]{4,20}$/), anyText)),
    commandName: maybeWrong(commandName),
    exitCode: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('0', '1', '-1', '255') }, fc.constantFrom('1e3', '0x10', '', ' 1', '99999999999999999999'), fc.integer(), fc.double(), fc.constant(null)),
    finishTime: maybeWrong(fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
    instanceId: maybeWrong(instanceId),
    invocationStatus: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...INSTANCE_STATUSES) }, fc.constantFrom('success', 'Finished', 'Running '), anyText),
    invokeId: maybeWrong(fc.stringMatching(/^t-[a-z0-9]{4,20}$/)),
    startTime: maybeWrong(anyText),
    repeatMode: maybeWrong(fc.constantFrom('Once', 'Period')),
    regionId: maybeWrong(fc.constantFrom('cn-hangzhou', 'xx')),
    errorCode: maybeWrong(anyText),
    errorInfo: maybeWrong(anyText),
    extra: anyValue,
  },
  // Without one of these an event is malformed; each is left out now and then.
  { requiredKeys: ['commandId', 'commandName', 'instanceId', 'invocationStatus'] },
).chain((d) => fc.oneof({ weight: 10, arbitrary: fc.constant(d) }, fc.constantFrom(...Object.keys(d)).map((k) => Object.fromEntries(Object.entries(d).filter(([key]) => key !== k)))));
const cloudEvent = fc.record(
  {
    id: fc.oneof({ weight: 12, arbitrary: fc.uuid() }, fc.constantFrom('', ' '), anyValue),
    source: fc.oneof({ weight: 12, arbitrary: fc.constant('acs.ecs') }, fc.constantFrom('acs.oss', 'ACS.ECS', ''), anyValue),
    specversion: maybeWrong(fc.constant('1.0')),
    type: fc.oneof({ weight: 12, arbitrary: fc.constant(TASK_COMPLETED_TYPE) }, fc.constantFrom('ecs:CloudAssistant:TaskStarted', 'ecs:CloudAssistant:TaskCompleted ', 'ecs:Instance:StateChange', ''), anyValue),
    subject: maybeWrong(anyText),
    time: maybeWrong(fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
    aliyunaccountid: maybeWrong(fc.constant('1234567890123456')),
    aliyunregionid: maybeWrong(fc.constant('cn-hangzhou')),
    data: fc.oneof({ weight: 8, arbitrary: data }, anyValue),
  },
  { requiredKeys: ['id', 'source', 'type', 'data'] },
);
const event = fc.oneof({ weight: 8, arbitrary: cloudEvent }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
/** JSON text with `__proto__` members, which JSON.parse keeps as own keys and a careless copy turns into prototypes. */
const withProtoKeys = fc
  .tuple(cloudEvent, fc.constantFrom('{"instanceId":"i-bp1known00000001","commandName":"fleetrun:r-20261123t000000-f0e1d2:x"}', '{"polluted":true}', 'null', '[]'))
  .map(([e, proto]) => (JSON.stringify(e) ?? 'null').replace(/^\{/, `{"__proto__":${proto},`).replace('"data":{', `"data":{"__proto__":${proto},`));
/** One CloudEvent (an EventBridge trigger) or a batch of them (event streaming), or bytes that are not JSON at all. */
const payload = fc.oneof(
  { weight: 6, arbitrary: event.map((e) => Buffer.from(JSON.stringify(e) ?? 'null')) },
  { weight: 1, arbitrary: withProtoKeys.map((text) => Buffer.from(text)) },
  { weight: 2, arbitrary: fc.array(event, { maxLength: 16 }).map((es) => Buffer.from(JSON.stringify(es))) },
  { weight: 1, arbitrary: fc.oneof(anyText.map((t) => Buffer.from(t)), fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b))) },
);

/** How the payloads ended, to tell that every kind of trouble was generated. */
const tally = { rejected: {} as Record<string, number>, skippedFor: { malformed: 0, notFleetrun: 0, notTarget: 0 }, accepted: 0 };

function reasonKind(reason: string): keyof typeof tally.skippedFor | undefined {
  if (reason.startsWith('malformed event')) return 'malformed';
  if (reason.includes('is not a fleetrun run')) return 'notFleetrun';
  if (reason.includes('is not a target of run')) return 'notTarget';
  return undefined;
}

async function checkInProcess(bytes: Buffer): Promise<void> {
  const from = stdout.lines.length;
  let outcome: Awaited<ReturnType<TaskEventsHandler>>;
  try {
    outcome = await handler(bytes, fcContext);
  } catch (e) {
    const name = (e as Error)?.name;
    expect(REJECTIONS.has(name), `the handler threw ${(e as Error)?.stack ?? String(e)}`).toBe(true);
    if (name === 'TaskEventsFailedError') {
      const failed = (e as { outcome: { failed: { reason: string }[] } }).outcome.failed;
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed) expect(f.reason).toMatch(/^(ManifestMissingError: no manifest for run|a copy of .*: ManifestMissingError)/);
      expect((e as Error).message).not.toContain(KNOWN_RUN);
    }
    tally.rejected[name] = (tally.rejected[name] ?? 0) + 1;
    return;
  }
  tally.accepted++;
  expect(outcome.sent).toBe(0);
  const lines = stdout.lines.slice(from).filter((l) => l.includes('"event skipped"'));
  expect(lines).toHaveLength(outcome.skipped.length);
  for (const s of outcome.skipped) {
    const kind = reasonKind(s.reason);
    expect(kind, s.reason).toBeDefined();
    tally.skippedFor[kind!]++;
  }
}

/** Result messages ever put on any queue: every `put` record in the MNS journals. */
async function messagesEverSent(): Promise<number> {
  let puts = 0;
  for (const file of await filesUnder(path.join(dataDir, 'mns'))) {
    if (!file.endsWith('.jsonl')) continue;
    puts += (await readFile(file, 'utf8')).split('\n').filter((l) => l.includes('"op":"put"')).length;
  }
  return puts;
}

describe('task-events under generated events', () => {
  it(`${IN_PROCESS} payloads in-process: each event skipped with a logged reason or the payload rejected; nothing sent`, async () => {
    stdout.capture(true);
    try {
      await fc.assert(fc.asyncProperty(payload, checkInProcess), { numRuns: IN_PROCESS });
    } finally {
      stdout.capture(false);
      stdout.lines.length = 0;
    }
    expect(tally.rejected.EventPayloadError ?? 0).toBeGreaterThan(IN_PROCESS / 50);
    expect(tally.rejected.TaskEventsFailedError ?? 0).toBeGreaterThan(IN_PROCESS / 50);
    expect(tally.skippedFor.malformed).toBeGreaterThan(IN_PROCESS / 10);
    expect(tally.skippedFor.notFleetrun).toBeGreaterThan(IN_PROCESS / 50);
    expect(tally.skippedFor.notTarget).toBeGreaterThan(IN_PROCESS / 50);
    // No payload changed what every object inherits.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 120_000);

  it(`${THROUGH_HOST} payloads through the local FC host: the function's process never crashes, errors only as rejections`, async () => {
    const fn = cloud.fc!.functions.get('fleetrun-task-events')!;
    for (const bytes of fc.sample(payload, THROUGH_HOST)) {
      try {
        const outcome = (await cloud.fc!.invoke('fleetrun-task-events', bytes)) as { sent: number };
        expect(outcome.sent).toBe(0);
      } catch (e) {
        expect(e).toBeInstanceOf(InvocationError);
        expect((e as InvocationError).kind, (e as Error).message).toBe('FunctionError');
        expect(REJECTIONS.has((e as InvocationError).errorName ?? ''), (e as Error).message).toBe(true);
      }
    }
    expect(fn.stats.crashes).toBe(0);
    expect(fn.stats.timeouts).toBe(0);
  }, 60_000);

  it('no message reached MNS and no ECS call was made — and a genuine event would have shown as both', async () => {
    expect(cloud.ecs.calls).toEqual({});
    expect(await messagesEverSent()).toBe(0);

    const genuine = {
      id: 'genuine-1',
      source: 'acs.ecs',
      type: TASK_COMPLETED_TYPE,
      data: { commandId: KNOWN_COMMAND, commandName: commandNameFor(KNOWN_RUN, 'known'), instanceId: KNOWN_TARGETS[0], invocationStatus: 'Success', exitCode: '0', invokeId: 't-known0fuzz0001' },
    };
    const outcome = await handler(Buffer.from(JSON.stringify(genuine)), fcContext);
    expect(outcome.sent).toBe(1);
    // One read of the invocation: DescribeInvocations for a run of several targets (result-fetcher.ts).
    expect((cloud.ecs.calls.DescribeInvocations ?? 0) + (cloud.ecs.calls.DescribeInvocationResults ?? 0)).toBe(1);
    expect(await messagesEverSent()).toBe(1);
  }, 30_000);
});
