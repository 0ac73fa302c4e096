/**
 * The local EventBridge honours a Default (Alibaba Cloud service events) trigger's
 * runOptions.batchWindow from s.yaml: the function — a real worker process of the local FC host —
 * gets arrays, pushed when CountBasedWindow events are held or TimeBasedWindow seconds after the
 * first, in parts that fit the invocation body limit; a failed push is retried whole. Without a
 * window it gets one event object per invocation; with defaultTriggerBatchWindow 'ignored' too.
 * A window out of FC's documented ranges refuses the start, naming function, trigger and field.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../local/eventbridge/bus.ts';
import { INVOCATION_BODY_LIMIT_BYTES } from '../../local/fc/fc3-rules.ts';
import { startFcHost, type FcHost, type FcHostOptions } from '../../local/fc/host.ts';
import { loadSYaml, parseSYaml } from '../../local/fc/s-yaml.ts';
import { startLocalCloud } from '../../local/local-cloud.ts';

const FIXTURE_ROOT = path.resolve(import.meta.dirname, '../fixtures/eventbridge-batch');
const FIXTURE = path.join(FIXTURE_ROOT, 's.yaml');
const ACCOUNT_ID = '1234567890123456';

interface SinkLine {
  shape: 'array' | 'object';
  ids: string[];
  sources: string[];
  bytes: number;
  attempt: number;
  ok: boolean;
}

let dir: string;
let running: { host: FcHost; bus: EventBus } | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-eb-batch-'));
});
afterEach(async () => {
  running?.bus.close();
  await running?.host.close();
  running = undefined;
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function startHost(sink: string, options: Partial<FcHostOptions> = {}): Promise<{ host: FcHost; bus: EventBus }> {
  const sYaml = await loadSYaml(FIXTURE, { env: { BATCH_SINK_FILE: sink }, config: { AccountID: ACCOUNT_ID } });
  const bus = new EventBus();
  const host = await startFcHost({
    sYaml,
    projectRoot: FIXTURE_ROOT,
    mode: 'source',
    env: {},
    credentials: { accessKeyId: 'fixture-ak', accessKeySecret: 'fixture-secret' },
    accountId: ACCOUNT_ID,
    bus,
    timers: false,
    allowWrite: [sink],
    log: () => {},
    ...options,
  });
  running = { host, bus };
  return running;
}

let sinks = 0;
const newSink = () => path.join(dir, `sink-${++sinks}.jsonl`);

async function lines(sink: string): Promise<SinkLine[]> {
  return (await readFile(sink, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SinkLine);
}

/** Pushes in the order of their first event: pushes go to concurrent instances, so they may finish in any order. */
function byFirstEvent(got: SinkLine[]): SinkLine[] {
  return [...got].sort((a, b) => (a.ids[0]! < b.ids[0]! ? -1 : a.ids[0]! > b.ids[0]! ? 1 : a.attempt - b.attempt));
}

async function until(sink: string, done: (l: SinkLine[]) => boolean, what: string, timeoutMs = 20_000): Promise<SinkLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await lines(sink);
    if (done(got)) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; sink has ${JSON.stringify(got.map((l) => l.ids.length))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A CloudEvent as the default bus carries it, from a test source. */
function event(source: string, n: number, data: Record<string, unknown> = {}): { id: string; source: string; specversion: '1.0'; type: string; time: string; data: Record<string, unknown> } {
  return { id: `${source}-${String(n).padStart(3, '0')}`, source, specversion: '1.0', type: 'test:Event', time: new Date().toISOString(), data };
}

const ids = (source: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${source}-${String(from + i).padStart(3, '0')}`);

describe('a Default trigger with runOptions.batchWindow', () => {
  it('pushes arrays of CountBasedWindow events as the count fills, and the rest when TimeBasedWindow is up', async () => {
    const sink = newSink();
    const { bus } = await startHost(sink);
    for (let n = 0; n < 12; n++) bus.publish(event('test.count', n));
    await bus.drain();
    const got = byFirstEvent(await lines(sink));
    // Count 5, time 3 s: two full pushes, and the two left over once the window closes.
    expect(got.map((l) => [l.shape, l.ids])).toEqual([
      ['array', ids('test.count', 0, 5)],
      ['array', ids('test.count', 5, 10)],
      ['array', ids('test.count', 10, 12)],
    ]);
    expect(bus.counts).toMatchObject({ published: 12, deliveries: 3, failures: 0, eventsDelivered: 12 });
  });

  it('pushes a partial batch TimeBasedWindow seconds after its first event, and starts a new window after', async () => {
    const sink = newSink();
    const { bus } = await startHost(sink);
    const firstAt = Date.now();
    for (let n = 0; n < 3; n++) bus.publish(event('test.time', n));
    const first = await until(sink, (l) => l.length >= 1, 'the first push');
    // TimeBasedWindow 1 s: not before it is up (a lower bound only).
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(1000);
    expect(first.map((l) => l.ids)).toEqual([ids('test.time', 0, 3)]);
    for (let n = 3; n < 5; n++) bus.publish(event('test.time', n));
    await bus.drain();
    expect((await lines(sink)).map((l) => [l.shape, l.ids])).toEqual([
      ['array', ids('test.time', 0, 3)],
      ['array', ids('test.time', 3, 5)],
    ]);
  });

  it('redelivers a failed push whole, and dead-letters every event of a push that never succeeds', async () => {
    const sink = newSink();
    const { bus } = await startHost(sink);
    // One event of the push fails it twice: the same three events come back until it succeeds.
    bus.publish(event('test.fail', 0));
    bus.publish(event('test.fail', 1, { failTimes: 2 }));
    bus.publish(event('test.fail', 2));
    await bus.drain();
    expect((await lines(sink)).map((l) => [l.ids, l.attempt, l.ok])).toEqual([
      [ids('test.fail', 0, 3), 1, false],
      [ids('test.fail', 0, 3), 2, false],
      [ids('test.fail', 0, 3), 3, true],
    ]);
    expect(bus.deadLetters).toEqual([]);

    for (let n = 3; n < 6; n++) bus.publish(event('test.fail', n, n === 4 ? { failTimes: 99 } : {}));
    await bus.drain();
    const again = (await lines(sink)).slice(3);
    expect(again.map((l) => [l.ids, l.attempt, l.ok])).toEqual([1, 2, 3].map((a) => [ids('test.fail', 3, 6), a, false]));
    // Three attempts (BACKOFF_RETRY's default), then each event of the push is a dead letter.
    expect(bus.deadLetters.map((d) => [d.rule, (d.event as { id: string }).id])).toEqual(ids('test.fail', 3, 6).map((id) => ['batch-sink/failing', id]));
    expect(bus.deadLetters[0]!.error).toMatch(/asked to fail \(attempt 3\)/);
    expect(bus.counts).toMatchObject({ deliveries: 6, failures: 5, eventsDelivered: 3 });
  });

  it('splits a push that would pass the invocation body limit (asynchronous: 128 KB), keeping the order', async () => {
    const sink = newSink();
    const { bus } = await startHost(sink);
    // FC's own example: 100 messages of 2 KB cannot go in one asynchronous push.
    for (let n = 0; n < 100; n++) bus.publish(event('test.big', n, { padding: 'x'.repeat(2048) }));
    await bus.drain();
    const got = byFirstEvent(await lines(sink));
    expect(got.length).toBeGreaterThanOrEqual(2);
    for (const l of got) expect(l.bytes).toBeLessThanOrEqual(INVOCATION_BODY_LIMIT_BYTES.async);
    // Each part but the last is full: one more event (and its comma) would not have fitted.
    const eventBytes = Buffer.byteLength(JSON.stringify(event('test.big', 0, { padding: 'x'.repeat(2048) })));
    for (const l of got.slice(0, -1)) expect(l.bytes + 1 + eventBytes).toBeGreaterThan(INVOCATION_BODY_LIMIT_BYTES.async);
    expect(got.flatMap((l) => l.ids)).toEqual(ids('test.big', 0, 100));
  });

  it('without a window, invokes once per event with the event object itself, as FC does for a rule on the default bus', async () => {
    const sink = newSink();
    const { bus } = await startHost(sink);
    for (let n = 0; n < 3; n++) bus.publish(event('test.single', n));
    await bus.drain();
    const got = await lines(sink);
    expect(got.map((l) => l.shape)).toEqual(['object', 'object', 'object']);
    expect(got.map((l) => l.ids[0]).sort()).toEqual(ids('test.single', 0, 3));
  });

  it("with defaultTriggerBatchWindow 'ignored' (a cloud that batches only custom sources), invokes once per event even with a window", async () => {
    const sink = newSink();
    const { bus } = await startHost(sink, { defaultTriggerBatchWindow: 'ignored' });
    for (let n = 0; n < 5; n++) bus.publish(event('test.count', n));
    await bus.drain();
    const got = await lines(sink);
    expect(got.map((l) => l.shape)).toEqual(Array(5).fill('object'));
    expect(got.map((l) => l.ids[0]).sort()).toEqual(ids('test.count', 0, 5));
  });
});

describe('a batch window out of the documented ranges', () => {
  async function sYamlWith(count: string, time: string) {
    const text = (await readFile(FIXTURE, 'utf8')).replace('CountBasedWindow: 5\n                TimeBasedWindow: 3', `CountBasedWindow: ${count}\n                TimeBasedWindow: ${time}`);
    return parseSYaml(text, { env: {}, config: { AccountID: ACCOUNT_ID }, baseDir: FIXTURE_ROOT });
  }
  const start = async (count: string, time: string) => {
    const host = await startFcHost({ sYaml: await sYamlWith(count, time), projectRoot: FIXTURE_ROOT, mode: 'source', env: {}, credentials: { accessKeyId: 'a', accessKeySecret: 's' }, accountId: ACCOUNT_ID, bus: new EventBus(), timers: false, log: () => {} });
    await host.close();
  };

  it.each([
    ['0', '3', 'CountBasedWindow 0', /from 1 to 10000/],
    ['10001', '3', 'CountBasedWindow 10001', /from 1 to 10000/],
    ['2.5', '3', 'CountBasedWindow 2.5', /whole number/],
    ['5', '16', 'TimeBasedWindow 16', /from 0 to 15 \(seconds\)/],
    ['5', '-1', 'TimeBasedWindow -1', /from 0 to 15/],
    ['5', 'soon', 'TimeBasedWindow "soon"', /from 0 to 15/],
  ])('refuses CountBasedWindow %s, TimeBasedWindow %s, naming function, trigger and field', async (count, time, field, range) => {
    const refusal = start(count, time);
    await expect(refusal).rejects.toThrow(`function batch-sink: trigger count-window: runOptions.batchWindow.${field}:`);
    await expect(refusal).rejects.toThrow(range);
  });

  it('takes the ends of the ranges (10000 events, 15 s; 1 event, 0 s)', async () => {
    await expect(start('10000', '15')).resolves.toBeUndefined();
    await expect(start('1', '0')).resolves.toBeUndefined();
  });

  it('refuses the local cloud at start, before any function runs', async () => {
    const copy = await mkdtemp(path.join(tmpdir(), 'fleetrun-eb-range-'));
    try {
      await writeFile(path.join(copy, 's.yaml'), (await readFile(FIXTURE, 'utf8')).replace('TimeBasedWindow: 1\n', 'TimeBasedWindow: 60\n'));
      await expect(startLocalCloud({ fleet: [], accessKeys: { LTAI5tRangeTest: 'range-test-secret' }, sYamlPath: path.join(copy, 's.yaml'), timers: false, ram: false })).rejects.toThrow(
        /function batch-sink: trigger time-window: runOptions\.batchWindow\.TimeBasedWindow 60: must be a whole number from 0 to 15/,
      );
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});
