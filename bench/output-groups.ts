/**
 * Output groups: what grouping a run's results costs summarize, per result and in heap, against the
 * summary it folds anyway. N results of about 24 KB, a realistic mix: 98 % healthy log output (the same
 * lines with their own timestamps, latencies, addresses and request ids), 1.5 % failing with
 * "disk full" (exit 1) and 0.5 % timing out mid-output. Three ways side by side in one process:
 *
 * - summary: reading each stored result (JSON.parse and its schema) and SummaryBuilder.add with its
 *   output groups turned off — the baseline: what finish-run did per result before groups, its
 *   storage calls aside;
 * - exact: SummaryBuilder as finish-run runs it for a command without grouping rules (groups by
 *   exact output): nearly every output is its own group;
 * - masked: as finish-run runs it for a command whose catalog entry masks numbers, hex ids, IPs and
 *   timestamps (the manifest's command.group): three groups.
 *
 * Only reading and adding are timed (making each 24 KB output is not); heap is sampled every 100
 * results (peak, garbage awaiting collection included) and measured after a collection at the end
 * (retained). The SHA-256 of each output is timed alone too, as the hash's share of the cost.
 * Run alone: `npx tsx bench/output-groups.ts [instances]`.
 */
import { createHash } from 'node:crypto';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../local/seeded-random.ts';
import { runManifestSchema, type RunManifest } from '../shared/runs/manifest.ts';
import { EXACT_GROUPING, outputGroupingSchema, type OutputGroupingRules } from '../shared/runs/output-normalise.ts';
import { instanceResultSchema, type InstanceResult } from '../shared/runs/result.ts';
import { SummaryBuilder } from '../shared/runs/summary.ts';

const MASKED = outputGroupingSchema.parse({ mask: ['numbers', 'hex', 'ips', 'timestamps'] });

export interface GroupingWay {
  usPerResult: number;
  peakHeapBytes: number;
  retainedHeapBytes: number;
  groups: number;
}

export interface OutputGroupsResult {
  instances: number;
  mix: typeof MIX;
  /** Mean bytes of an output (healthy ones are about 24 KB). */
  meanOutputBytes: number;
  summary: GroupingWay;
  exact: GroupingWay;
  masked: GroupingWay;
  /** µs per result of summary + masked groups ÷ summary alone. */
  maskedRatio: number;
  exactRatio: number;
  /** µs to hash one output with SHA-256. */
  sha256UsPerResult: number;
}

/** Of every 200 instances: 196 healthy, 3 failing with "disk full", 1 timing out. */
const MIX = { success: 196 / 200, failed: 3 / 200, timeout: 1 / 200 };
/** Lines of a healthy output: about 24 KB. */
const LINES = 263;

function resultOf(n: number, runId: string): InstanceResult {
  // Deterministic, so every way folds the same outputs.
  const random = seededRandom(n + 1);
  const int = (below: number) => Math.floor(random() * below);
  const kind = n % 200 < MIX.success * 200 ? 'ok' : n % 200 < (MIX.success + MIX.failed) * 200 ? 'disk-full' : 'timeout';
  const lines: string[] = [];
  // Every healthy instance prints as many lines, each with its own numbers: alike but for them.
  for (let line = 0; line < (kind === 'timeout' ? LINES / 2 : LINES); line++) {
    const second = String(int(60)).padStart(2, '0');
    const hex = int(0xffffffff).toString(16).padStart(8, '0') + int(0xffff).toString(16).padStart(4, '0');
    lines.push(`2026-11-23T10:${String(line % 60).padStart(2, '0')}:${second}.${String(int(1000)).padStart(3, '0')}Z web-${n} GET /health 200 ${int(900)}ms from 10.0.${int(256)}.${int(256)} req=${hex}   \n`);
  }
  if (kind === 'disk-full') lines.push(`ERROR: write /var/log/app.log: no space left on device (disk full, ${int(100)} MB short)\n`);
  const output = lines.join('');
  const status = kind === 'ok' ? 'Success' : kind === 'disk-full' ? 'Failed' : 'Timeout';
  return {
    version: 1, runId, invokeId: 't-1', commandId: 'c-1', instanceId: `i-bench${String(n).padStart(8, '0')}`, status, exitCode: kind === 'disk-full' ? 1 : 0,
    errorCode: kind === 'disk-full' ? 'ExitCodeNonzero' : kind === 'timeout' ? 'ExecutionTimeout' : '', errorInfo: '',
    startTime: '2026-11-23T10:00:00Z', finishTime: '2026-11-23T10:00:05Z', output, outputBytes: Buffer.byteLength(output), source: 'event',
  };
}

function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function way(manifest: RunManifest, instances: number, rules: OutputGroupingRules | undefined, gc: () => void): GroupingWay {
  // The rules as a run started with them: in its manifest, where SummaryBuilder reads them (made before the heap is measured).
  const started = rules === undefined || rules === EXACT_GROUPING ? manifest : runManifestSchema.parse({ ...manifest, command: { ...manifest.command, group: rules } });
  gc();
  const before = v8.getHeapStatistics().used_heap_size;
  let peak = before;
  const summary = new SummaryBuilder(started, rules === undefined ? { groups: false } : {});
  let spent = 0;
  for (let n = 0; n < instances; n++) {
    // The stored result object, as finish-run reads it (making it is not timed).
    const body = JSON.stringify(resultOf(n, manifest.runId));
    const from = performance.now();
    const result = instanceResultSchema.parse(JSON.parse(body));
    summary.add(result);
    spent += performance.now() - from;
    if (n % 100 === 0) peak = Math.max(peak, v8.getHeapStatistics().used_heap_size);
  }
  peak = Math.max(peak, v8.getHeapStatistics().used_heap_size);
  gc();
  const retained = v8.getHeapStatistics().used_heap_size - before;
  // The builder stays reachable until the heap was measured.
  if (summary.resultCount !== instances) throw new Error('the summary lost results');
  const groups = summary.build().groups.length;
  return { usPerResult: (spent * 1000) / instances, peakHeapBytes: peak - before, retainedHeapBytes: retained, groups };
}

export function benchOutputGroups(instances = 10_000): OutputGroupsResult {
  const gc = collector();
  const runId = 'r-20261123t100000-groups';
  const targets = Array.from({ length: instances }, (_, n) => `i-bench${String(n).padStart(8, '0')}`);
  const manifest = runManifestSchema.parse({ version: 1, runId, createdAt: '2026-11-23T10:00:00.000Z', requestedBy: { kind: 'cli' }, command: { name: 'bench', type: 'RunShellScript', timeoutSeconds: 60 }, targets, output: { mode: 'fetch' } });
  // Warm the code paths up first, so no way pays for compiling them.
  const warm = Math.min(instances, 300);
  for (const rules of [undefined, EXACT_GROUPING, MASKED]) way(manifest, warm, rules, gc);
  const summary = way(manifest, instances, undefined, gc);
  const exact = way(manifest, instances, EXACT_GROUPING, gc);
  const masked = way(manifest, instances, MASKED, gc);
  let hashing = 0;
  let bytes = 0;
  for (let n = 0; n < instances; n += 10) {
    const { output } = resultOf(n, runId);
    bytes += Buffer.byteLength(output);
    const started = performance.now();
    createHash('sha256').update(output).digest('hex');
    hashing += performance.now() - started;
  }
  return {
    instances, mix: MIX, meanOutputBytes: bytes / Math.ceil(instances / 10), summary, exact, masked,
    maskedRatio: masked.usPerResult / summary.usPerResult,
    exactRatio: exact.usPerResult / summary.usPerResult,
    sha256UsPerResult: (hashing * 1000) / Math.ceil(instances / 10),
  };
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;

export function describeOutputGroups(r: OutputGroupsResult): string {
  const line = (name: string, w: GroupingWay) => `  ${name.padEnd(34)} ${w.usPerResult.toFixed(1).padStart(7)} µs/result  peak heap +${mb(w.peakHeapBytes)}, retained +${mb(w.retainedHeapBytes)}${w.groups ? `, ${w.groups.toLocaleString('en-US')} groups` : ''}`;
  return [
    `output groups: ${r.instances.toLocaleString('en-US')} results, ${(r.meanOutputBytes / 1024).toFixed(1)} KB each on average (98% alike but for numbers, 2% failing)`,
    line('read + summary (baseline)', r.summary),
    line('read + summary + groups, exact', r.exact),
    line('read + summary + groups, masked', r.masked),
    `  masked ÷ summary ${r.maskedRatio.toFixed(2)}×, exact ÷ summary ${r.exactRatio.toFixed(2)}×; SHA-256 of one output ${r.sha256UsPerResult.toFixed(1)} µs`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(describeOutputGroups(benchOutputGroups(Number(process.argv[2] ?? 10_000))));
