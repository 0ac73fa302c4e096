/**
 * Recent runs from the audit record (runs/audit.ts), newest first, with where each stands: what
 * `runs [N]` in chat and `fleetrun runs` list. A run is listed from the record of its start; its
 * state comes from its own objects — the finish record its summarizer wrote (what summary.json
 * says, a few hundred bytes instead of a 10,000-instance summary), else summary.json, else its
 * manifest (running), else a refusal at dispatch, else its pending hand-off (starting). A run
 * whose objects the bucket's lifecycle rule has expired is still listed, from the audit record,
 * which does not expire: finished with its status when its finish record says so, else gone.
 */
import type { Targets } from '../cloud-assistant/targets.ts';
import type { OverallStatus } from '../cloud-assistant/statuses.ts';
import { auditNewestFirst, readAuditRecord, type AuditWalk } from '../pipeline/audit-log.ts';
import type { AuditKeyInfo, RunAuditRecord } from '../runs/audit.ts';
import { runKeys } from '../runs/keys.ts';
import { parseSummaryJson } from '../runs/summary.ts';
import type { ObjectStore } from '../store/port.ts';

/**
 * Start records a listing opens at most: fleetrun's own bound, not a platform's. A listing that
 * shows one person few of many runs (a policy that lets them see one environment of a busy
 * deployment) still answers within chat's few seconds; the answer says when it stopped there.
 */
export const RECENT_RUNS_SCAN = 500;

/** Records opened at once. */
const READ_CONCURRENCY = 16;

export type RunState = 'finished' | 'running' | 'starting' | 'refused' | 'gone';

export interface RecentRun {
  runId: string;
  /** When the run was asked for. */
  at: string;
  who: RunAuditRecord['who'];
  command: string;
  /** As asked: tags or instance ids. */
  targets: Targets;
  state: RunState;
  /** A finished run's overall status and counts. */
  status?: OverallStatus;
  counts?: { total: number; success: number; failed: number; stopped: number; skipped: number };
  /** report.html is in the bucket: a link to it opens. */
  hasReport: boolean;
}

export interface RecentRunsQuery extends AuditWalk {
  /** Runs to list at most. */
  limit: number;
  /** Start records to open at most (default {@link RECENT_RUNS_SCAN}). */
  scan?: number;
  /** Whether a run is listed, decided from its start record, newest first (the policy, a filter). */
  include?: (record: RunAuditRecord & { runId: string }) => boolean | Promise<boolean>;
}

export interface RecentRunsAnswer {
  runs: RecentRun[];
  /** Start records opened. */
  scanned: number;
  /** The walk stopped at `scan` records with fewer than `limit` runs found: older ones were not looked at. */
  stoppedAtScan: boolean;
}

async function exists(store: ObjectStore, key: string): Promise<boolean> {
  for await (const o of store.list(key)) if (o.key === key) return true;
  return false;
}

/** `fn` over `items`, `n` at a time, answers in order. */
async function mapLimited<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += n) out.push(...(await Promise.all(items.slice(i, i + n).map(fn))));
  return out;
}

/** What the walk learned of later events, by run id: its finish record, a refusal at dispatch. */
interface LaterEvents {
  finish: Map<string, string>;
  refused: Set<string>;
}

async function stateOf(store: ObjectStore, record: RunAuditRecord & { runId: string }, later: LaterEvents): Promise<RecentRun> {
  const { runId } = record;
  const listed = { runId, at: record.at, who: record.who, command: record.command, targets: record.targets };
  const finishKey = later.finish.get(runId);
  const finish = finishKey ? await readAuditRecord(store, finishKey) : undefined;
  if (finish?.kind === 'finish') {
    return { ...listed, state: 'finished', status: finish.outcome.status, counts: finish.outcome.counts, hasReport: await exists(store, runKeys.report(runId)) };
  }
  const stored = await store.get(runKeys.summaryJson(runId));
  if (stored) {
    const summary = parseSummaryJson(stored.toString('utf8'));
    const c = summary.counts.byClass;
    return { ...listed, state: 'finished', status: summary.status, counts: { total: summary.counts.total, ...c }, hasReport: await exists(store, runKeys.report(runId)) };
  }
  if (await exists(store, runKeys.manifest(runId))) return { ...listed, state: 'running', hasReport: false };
  if (later.refused.has(runId)) return { ...listed, state: 'refused', hasReport: false };
  if (await exists(store, runKeys.pendingDispatch(runId))) return { ...listed, state: 'starting', hasReport: false };
  return { ...listed, state: 'gone', hasReport: false };
}

/** The newest runs `include` lets through, at most `limit`, from at most `scan` start records. */
export async function recentRuns(store: ObjectStore, query: RecentRunsQuery): Promise<RecentRunsAnswer> {
  const scan = query.scan ?? RECENT_RUNS_SCAN;
  const later: LaterEvents = { finish: new Map(), refused: new Set() };
  const chosen: (RunAuditRecord & { runId: string })[] = [];
  // A run started twice is listed once (a start retried after its record was written records it again).
  const started = new Set<string>();
  let scanned = 0;
  let batch: AuditKeyInfo[] = [];

  // A batch of start records is opened at once and judged in order, newest first.
  const judge = async () => {
    const records = await mapLimited(batch, READ_CONCURRENCY, (e) => readAuditRecord(store, e.key));
    scanned += batch.length;
    batch = [];
    for (const r of records) {
      if (chosen.length >= query.limit) break;
      if (r?.kind !== 'run' || r.runId === undefined || r.outcome.result !== 'started') continue;
      const run = { ...r, runId: r.runId };
      if (!query.include || (await query.include(run))) chosen.push(run);
    }
  };

  for await (const e of auditNewestFirst(store, query)) {
    // Later events come first in this walk: a run's finish or refusal is known before its start is reached.
    if (e.kind === 'finish' && e.runId) later.finish.set(e.runId, e.key);
    else if (e.kind === 'run' && e.result === 'refused' && e.runId) later.refused.add(e.runId);
    else if (e.kind === 'run' && e.result === 'started' && e.runId && !started.has(e.runId)) {
      started.add(e.runId);
      batch.push(e);
      if (batch.length >= Math.min(READ_CONCURRENCY, scan - scanned)) await judge();
    }
    if (chosen.length >= query.limit || scanned >= scan) break;
  }
  if (batch.length > 0 && chosen.length < query.limit) await judge();
  const runs = await mapLimited(chosen, READ_CONCURRENCY, (r) => stateOf(store, r, later));
  return { runs, scanned, stoppedAtScan: scanned >= scan && chosen.length < query.limit };
}
