/**
 * The audit record in the local OSS, through ali-oss: events appended once each, walked newest
 * first over years, months and days with folder listings (only days that have events are listed),
 * a failed write that fails nothing, and recent runs with where each stands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recentRuns } from '../../shared/chatops/recent-runs.ts';
import { appendAudit, auditNewestFirst } from '../../shared/pipeline/audit-log.ts';
import type { AuditRecordInput } from '../../shared/runs/audit.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import type { ObjectStore } from '../../shared/store/port.ts';
import { AK, BUCKET, SK, startTestOss, type TestOss } from './oss-test-cloud.ts';

let oss: TestOss;
let store: AliOssStore;
const lines: string[] = [];
const logger = createLogger({ sink: (l) => lines.push(l) });

beforeAll(async () => {
  oss = await startTestOss();
  store = new AliOssStore({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
});
afterAll(async () => oss.close());

const runId = (n: number) => `r-20260101t000000-${String(n).padStart(6, '0')}`;

function started(n: number, at: string, targets: { tags: Record<string, string> } | { instanceIds: string[] } = { tags: { env: 'demo' } }, user = 'webhook:demo-ci'): Extract<AuditRecordInput, { kind: 'run' }> {
  return { version: 1, at, who: { kind: 'chat', user }, kind: 'run', runId: runId(n), command: 'uptime', targets, outcome: { result: 'started' } };
}

/** The store with its listings counted on the way through. */
function counting(s: ObjectStore): { store: ObjectStore; lists: string[] } {
  const lists: string[] = [];
  const counted = Object.assign(Object.create(s) as ObjectStore, {
    list: (prefix: string) => (lists.push(`list ${prefix}`), s.list(prefix)),
    folders: (prefix: string) => (lists.push(`folders ${prefix}`), s.folders(prefix)),
  });
  return { store: counted, lists };
}

describe('The audit log', () => {
  it('lists folders one level down, without the objects in them', async () => {
    await store.put('tree/a/1', 'x');
    await store.put('tree/a/2', 'x');
    await store.put('tree/b/c/3', 'x');
    await store.put('tree/top', 'x');
    const found: string[] = [];
    for await (const f of store.folders('tree/')) found.push(f);
    expect(found).toEqual(['tree/a/', 'tree/b/']);
  });

  it('walks events newest first across years, months and days, listing only days that have events', async () => {
    const times = ['2024-03-05T10:00:00.000Z', '2025-12-31T23:59:59.999Z', '2026-01-01T00:00:00.000Z', '2026-01-01T12:00:00.000Z', '2026-02-10T08:00:00.000Z'];
    for (const [n, at] of times.entries()) expect(await appendAudit({ store, logger }, started(n, at))).toBe('written');

    const walked = counting(store);
    const all: string[] = [];
    for await (const e of auditNewestFirst(walked.store)) all.push(e.at);
    expect(all).toEqual([...times].reverse());
    // Three years, four months, four days: eleven listings, none for the days in between.
    expect(walked.lists.filter((l) => l.startsWith('list'))).toEqual(['list audit/2026/02/10/', 'list audit/2026/01/01/', 'list audit/2025/12/31/', 'list audit/2024/03/05/']);
    expect(walked.lists).toHaveLength(3 + 1 + 4 + 4);

    // A window lists only what is in it; stopping the walk stops the listing.
    const windowed = counting(store);
    const inWindow: string[] = [];
    for await (const e of auditNewestFirst(windowed.store, { since: new Date('2025-12-31T23:59:59.999Z'), until: new Date('2026-01-01T12:00:00.000Z') })) inWindow.push(e.at);
    expect(inWindow).toEqual(['2026-01-01T00:00:00.000Z', '2025-12-31T23:59:59.999Z']);
    expect(windowed.lists.filter((l) => l.startsWith('list'))).toEqual(['list audit/2026/01/01/', 'list audit/2025/12/31/']);
    const first = counting(store);
    for await (const e of auditNewestFirst(first.store)) {
      expect(e.at).toBe(times.at(-1));
      break;
    }
    expect(first.lists.filter((l) => l.startsWith('list'))).toEqual(['list audit/2026/02/10/']);
  });

  it('writes an event once, and a write that fails fails nothing: it is logged without the record', async () => {
    const record = started(99, '2026-03-01T00:00:00.000Z');
    expect(await appendAudit({ store, logger }, record)).toBe('written');
    // The same run's same event at the same time is the same object: created once, left as it is.
    expect(await appendAudit({ store, logger }, { ...record, command: 'other' })).toBe('written');
    const body = await store.get(`audit/2026/03/01/2026-03-01T00:00:00.000Z-run.started-${runId(99)}.json`);
    expect(JSON.parse(body!.toString())).toMatchObject({ command: 'uptime' });

    const broken = new AliOssStore({ bucket: 'no-such-bucket', region: 'oss-cn-hangzhou', credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: oss.emulator.endpoint });
    lines.length = 0;
    const secret = 'never-in-a-log-line-7';
    expect(await appendAudit({ store: broken, logger }, { ...record, parameters: { mount: secret } }, [secret])).toBe('failed');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', message: 'audit record not written', kind: 'run', result: 'started', runId: runId(99) });
    expect(lines[0]).not.toContain(secret);
  });
});

describe('Function: recentRuns', () => {
  let fresh: TestOss;
  let s: AliOssStore;
  beforeAll(async () => {
    fresh = await startTestOss();
    s = new AliOssStore({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: { accessKeyId: AK, accessKeySecret: SK }, endpoint: fresh.emulator.endpoint });
  });
  afterAll(async () => fresh.close());

  it('lists runs newest first with where each stands, and only those `include` lets through', async () => {
    const deps = { store: s, logger };
    const at = (m: number) => new Date(Date.UTC(2026, 4, 1, 9, m)).toISOString();
    // 1: finished (finish record and report); 2: finished before finish records (summary.json only);
    // 3: running (manifest); 4: refused at dispatch; 5: handed over, not started; 6: its objects expired;
    // 7: on prod, for the filter; 8: finished, report expired.
    for (let n = 1; n <= 8; n++) await appendAudit(deps, started(n, at(n), n === 7 ? { tags: { env: 'prod' } } : { tags: { env: 'demo' } }));
    await appendAudit(deps, { version: 1, at: at(20), who: { kind: 'chat', user: 'webhook:demo-ci' }, kind: 'finish', runId: runId(1), command: 'uptime', outcome: { result: 'finished', status: 'PartialFailed', counts: { total: 3, success: 2, failed: 1, stopped: 0, skipped: 0 } } });
    await s.put(runKeys.report(runId(1)), '<html>');
    await s.put(runKeys.summaryJson(runId(2)), JSON.stringify({ status: 'Success', counts: { total: 2, byClass: { success: 2, failed: 0, stopped: 0, skipped: 0 }, byStatus: {} }, instances: [] }));
    await s.put(runKeys.report(runId(2)), '<html>');
    await s.put(runKeys.manifest(runId(3)), '{}');
    await appendAudit(deps, { ...started(4, at(21)), outcome: { result: 'refused', code: 'NotAllowed', reason: 'r', stage: 'dispatch' } });
    await s.put(runKeys.pendingDispatch(runId(5)), '{}');
    await appendAudit(deps, { version: 1, at: at(22), who: { kind: 'chat', user: 'webhook:demo-ci' }, kind: 'finish', runId: runId(8), command: 'uptime', outcome: { result: 'finished', status: 'Success', counts: { total: 1, success: 1, failed: 0, stopped: 0, skipped: 0 } } });
    // A run whose start was recorded twice is listed once.
    await appendAudit(deps, started(3, at(3).replace(':00.000Z', ':01.000Z')));

    const all = await recentRuns(s, { limit: 10 });
    expect(all.runs.map((r) => [r.runId, r.state, r.status ?? null, r.hasReport])).toEqual([
      [runId(8), 'finished', 'Success', false],
      [runId(7), 'gone', null, false],
      [runId(6), 'gone', null, false],
      [runId(5), 'starting', null, false],
      [runId(4), 'refused', null, false],
      [runId(3), 'running', null, false],
      [runId(2), 'finished', 'Success', true],
      [runId(1), 'finished', 'PartialFailed', true],
    ]);
    expect(all.runs[7]).toMatchObject({ counts: { total: 3, failed: 1 }, who: { user: 'webhook:demo-ci' }, targets: { tags: { env: 'demo' } }, command: 'uptime', at: at(1) });
    expect(all.stoppedAtScan).toBe(false);

    const demoOnly = await recentRuns(s, { limit: 3, include: (r) => 'tags' in r.targets && r.targets.tags.env === 'demo' });
    expect(demoOnly.runs.map((r) => r.runId)).toEqual([runId(8), runId(6), runId(5)]);

    // The bound on records opened: fewer found than asked, and the answer says the walk stopped there.
    const bounded = await recentRuns(s, { limit: 10, scan: 3, include: (r) => 'tags' in r.targets && r.targets.tags.env === 'prod' });
    expect(bounded).toMatchObject({ scanned: 3, stoppedAtScan: true });
    expect(bounded.runs.map((r) => r.runId)).toEqual([runId(7)]);
    const missed = await recentRuns(s, { limit: 10, scan: 1, include: (r) => 'tags' in r.targets && r.targets.tags.env === 'prod' });
    expect(missed).toMatchObject({ runs: [], scanned: 1, stoppedAtScan: true });
  });
});
