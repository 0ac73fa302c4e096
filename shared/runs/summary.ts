/**
 * Folding a run's per-instance results into its summary. The builder takes results one at a time
 * and keeps only what the summary shows (a short output tail per instance, and the run's output
 * groups: output-groups.ts), so a 10,000-instance run with 24 KB outputs never sits in memory
 * whole. The summary depends only on the results and the manifest, never on the order they arrived
 * in or on the clock: two summarizers folding the same run write the same bytes.
 */
import { overallStatus, statusClass, type InstanceStatus, type OverallStatus, type StatusClass } from '../cloud-assistant/statuses.ts';
import { expectedInstances, type RunManifest } from './manifest.ts';
import { OutputGrouper, type OutputGroup } from './output-groups.ts';
import { durationMs, type InstanceResult } from './result.ts';

/** Characters of output an instance keeps in the summary and the report, at most… */
export const SUMMARY_TAIL_CHARS = 2000;
/** …and at least, however large the run. */
export const SUMMARY_MIN_TAIL_CHARS = 200;
/**
 * Output characters a whole run's summary keeps. A 10,000-instance report with 2,000 characters
 * each would be 23 MB of HTML no browser opens comfortably, and summarize would hold all of it:
 * past 1,000 instances each tail shrinks so the summary stays about the same size. The full output
 * stays in the result object (or the delivered OSS object) the summary names.
 */
export const SUMMARY_TAIL_BUDGET_CHARS = 2_000_000;

/** The tail each instance of a run of `instances` keeps. */
export function tailCharsFor(instances: number): number {
  return Math.max(SUMMARY_MIN_TAIL_CHARS, Math.min(SUMMARY_TAIL_CHARS, Math.floor(SUMMARY_TAIL_BUDGET_CHARS / Math.max(1, instances))));
}

export interface SummaryInstance {
  instanceId: string;
  /** Its name when the run started ('' when it had none, or the summary is older than names). */
  name: string;
  status: InstanceStatus;
  statusClass: StatusClass | 'skipped';
  exitCode: number;
  errorCode: string;
  durationMs: number | null;
  outputTail: string;
  outputBytes: number;
  outputKey: string | null;
  /** Its output group: an index into the summary's `groups`; null in a summary from before groups. */
  group: number | null;
}

export interface RunSummary {
  version: 1;
  runId: string;
  command: { name: string; type: string };
  requestedBy: RunManifest['requestedBy'];
  createdAt: string;
  status: OverallStatus;
  counts: {
    total: number;
    byClass: { success: number; failed: number; stopped: number; skipped: number };
    byStatus: Partial<Record<InstanceStatus, number>>;
  };
  durations: { p50Ms: number | null; p95Ms: number | null; maxMs: number | null; histogram: { upToMs: number; count: number }[] };
  firstStart: string | null;
  lastFinish: string | null;
  /** The tags the run's targets were chosen by; null when it named its instances by id. */
  targetTags: Record<string, string> | null;
  /** The run this one retries (`retry <run>`); null when it is no retry. */
  retryOf: string | null;
  /**
   * The retries of this run, by run id in order: [] as the run's own summarizer writes it. A
   * retry's summarizer adds itself here once the retry is summarized (pipeline/retry-link.ts),
   * rewriting this run's summary.json, summary.md and report.html from the list of create-once
   * links under runs/<run>/retries/, so any writer with the same list writes the same bytes.
   */
  retries: string[];
  /**
   * Every instance grouped by status, exit code, error code and output, normalised by the rules the
   * run started with (the manifest's command.group): failures first, then by size. [] in a summary
   * from before groups.
   */
  groups: OutputGroup[];
  /** Failures first, then stopped, skipped and successes; by instance id within each. */
  instances: SummaryInstance[];
}

const CLASS_ORDER: Record<SummaryInstance['statusClass'], number> = { failed: 0, stopped: 1, skipped: 2, running: 3, success: 4 };

/** Upper bounds of the duration histogram's buckets, in ms: 1 s … 1 h, then the rest. */
const HISTOGRAM_BOUNDS = [1_000, 5_000, 15_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, Number.POSITIVE_INFINITY];

function tail(text: string, chars: number): string {
  const kept = text.length <= chars ? text : text.slice(text.length - chars);
  // V8's slice points into the whole string and keeps it alive: copy, so a result's full output
  // can be collected once folded and memory stays flat however many instances the run has.
  return Buffer.from(kept, 'utf8').toString('utf8');
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  // Nearest-rank: the smallest value with at least p% of the values at or below it.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export interface SummaryBuilderOptions {
  /** false: no output groups (`groups` is []) — only to measure what grouping costs (bench/output-groups.ts). */
  groups?: boolean;
}

export class SummaryBuilder {
  private readonly byInstance = new Map<string, SummaryInstance>();
  private firstStart: string | null = null;
  private lastFinish: string | null = null;
  private readonly tailChars: number;
  private readonly grouper: OutputGrouper | undefined;
  /** Each instance's group key; one string per group (`interned`), not one per instance. */
  private readonly groupOf = new Map<string, string>();
  private readonly interned = new Map<string, string>();

  constructor(
    private readonly manifest: RunManifest,
    options: SummaryBuilderOptions = {},
  ) {
    this.tailChars = tailCharsFor(expectedInstances(manifest).size);
    // A group keeps as much of its output as each of its instances does.
    this.grouper = options.groups === false ? undefined : new OutputGrouper({ ...(manifest.command.group ? { rules: manifest.command.group } : {}), outputChars: this.tailChars });
  }

  private nameOf(instanceId: string): string {
    return Object.hasOwn(this.manifest.instanceNames, instanceId) ? this.manifest.instanceNames[instanceId]! : '';
  }

  private group(result: Parameters<OutputGrouper['add']>[0]): void {
    const key = this.grouper?.add(result);
    if (key === undefined) return;
    let kept = this.interned.get(key);
    if (kept === undefined) this.interned.set(key, (kept = key));
    this.groupOf.set(result.instanceId, kept);
  }

  /** Adds one result; a second result for the same instance replaces nothing (the first stored wins). */
  add(result: InstanceResult): void {
    if (this.byInstance.has(result.instanceId)) return;
    this.group(result);
    this.byInstance.set(result.instanceId, {
      instanceId: result.instanceId,
      name: this.nameOf(result.instanceId),
      status: result.status,
      statusClass: statusClass(result.status),
      exitCode: result.exitCode,
      errorCode: result.errorCode,
      durationMs: durationMs(result) ?? null,
      outputTail: tail(result.output, this.tailChars),
      outputBytes: result.outputBytes,
      outputKey: result.outputKey ?? null,
      group: null,
    });
    if (result.startTime && (this.firstStart === null || result.startTime < this.firstStart)) this.firstStart = result.startTime;
    if (result.finishTime && (this.lastFinish === null || result.finishTime > this.lastFinish)) this.lastFinish = result.finishTime;
  }

  get resultCount(): number {
    return this.byInstance.size;
  }

  build(): RunSummary {
    const instances = [...this.byInstance.values()];
    for (const s of this.manifest.skipped) {
      if (this.byInstance.has(s.instanceId)) continue;
      // Never delivered: the API's own word for that is Aborted, with the reason as its ErrorCode —
      // or Cancelled when a stop came before it was sent, as StopInvocation leaves a task not started.
      const stopped = s.reason === 'StopRequested';
      const status = stopped ? 'Cancelled' : 'Aborted';
      // Grouped as the summary shows it: the status, the reason as its error code, no output.
      this.group({ instanceId: s.instanceId, status, exitCode: 0, errorCode: s.reason, output: '' });
      instances.push({ instanceId: s.instanceId, name: this.nameOf(s.instanceId), status, statusClass: stopped ? 'stopped' : 'skipped', exitCode: 0, errorCode: s.reason, durationMs: null, outputTail: '', outputBytes: 0, outputKey: null, group: null });
    }
    const groups = this.grouper?.build() ?? [];
    const indexOf = new Map(groups.map((g, n) => [g.key, n]));
    instances.sort((a, b) => CLASS_ORDER[a.statusClass] - CLASS_ORDER[b.statusClass] || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
    const byStatus: Partial<Record<InstanceStatus, number>> = {};
    const byClass = { success: 0, failed: 0, stopped: 0, skipped: 0 };
    for (const i of instances) {
      byStatus[i.status] = (byStatus[i.status] ?? 0) + 1;
      if (i.statusClass !== 'running') byClass[i.statusClass]++;
    }
    const durations = instances.map((i) => i.durationMs).filter((d): d is number => d !== null).sort((a, b) => a - b);
    const histogram = HISTOGRAM_BOUNDS.map((upToMs, n) => ({
      upToMs,
      count: durations.filter((d) => d <= upToMs && (n === 0 || d > HISTOGRAM_BOUNDS[n - 1]!)).length,
    }));
    return {
      version: 1,
      runId: this.manifest.runId,
      command: { name: this.manifest.command.name, type: this.manifest.command.type },
      requestedBy: this.manifest.requestedBy,
      createdAt: this.manifest.createdAt,
      status: overallStatus(instances.map((i) => i.status)),
      counts: { total: instances.length, byClass, byStatus },
      durations: { p50Ms: percentile(durations, 50), p95Ms: percentile(durations, 95), maxMs: durations.at(-1) ?? null, histogram },
      firstStart: this.firstStart,
      lastFinish: this.lastFinish,
      targetTags: this.manifest.targetTags ?? null,
      retryOf: this.manifest.retryOf ?? null,
      retries: [],
      groups,
      instances: instances.map((i) => ({ ...i, group: indexOf.get(this.groupOf.get(i.instanceId)!) ?? null })),
    };
  }
}

/** The summary's JSON as stored: stable key order and formatting, so equal summaries are equal bytes. */
export function summaryJson(summary: RunSummary): string {
  return `${JSON.stringify(summary, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v), 2)}\n`;
}

/**
 * Reads a stored summary.json back into the summary it was written from; one from before groups,
 * names or retries gets none. The keys come back in the order build() writes them, so a summary
 * read, changed (its retries) and written again is written as build() would have.
 */
export function parseSummaryJson(text: string): RunSummary {
  const s = JSON.parse(text, (k, v: unknown) => (k === 'upToMs' && v === 'Infinity' ? Number.POSITIVE_INFINITY : v)) as Partial<RunSummary> &
    Omit<RunSummary, 'groups' | 'targetTags' | 'retryOf' | 'retries'>;
  return {
    version: s.version,
    runId: s.runId,
    command: s.command,
    requestedBy: s.requestedBy,
    createdAt: s.createdAt,
    status: s.status,
    counts: s.counts,
    durations: s.durations,
    firstStart: s.firstStart,
    lastFinish: s.lastFinish,
    targetTags: s.targetTags ?? null,
    retryOf: s.retryOf ?? null,
    retries: s.retries ?? [],
    groups: s.groups ?? [],
    instances: s.instances.map((i: Partial<SummaryInstance> & Omit<SummaryInstance, 'name' | 'group'>) => ({ ...i, name: i.name ?? '', group: i.group ?? null })),
  };
}
