/**
 * Output groups (issue 15): what different answers a run got, and from how many instances. Results
 * are grouped by status, exit code, error code and normalised output (output-normalise.ts).
 *
 * Memory is bounded by the number of groups, not by the outputs: a group is found by the SHA-256 of
 * what defines it, and keeps one copy of its normalised output cut to `outputChars`, the exact count
 * and the first `instanceIdsKept` instance ids. At 10,000 instances with 24 KB outputs, all
 * different, that is 10,000 short tails and 10,000 ids, never 240 MB.
 *
 * Why SHA-256 and not a faster non-cryptographic hash: a collision would silently put two different
 * answers into one group and misreport the run, and with a 32- or 64-bit hash over outputs the
 * script's author controls that is a question of when, not if. node:crypto's SHA-256 runs natively
 * at about 1 GB/s: some 20 µs for a 24 KB output (bench/output-groups.ts), as much as the exact
 * normalisation and a tenth of the masked one. Node has no native non-cryptographic hash, and one in
 * JavaScript could save at most those 20 µs per result.
 *
 * A grouping depends only on the set of results it was given, never on their order: the example
 * kept is the normalised text every member shares, and the ids kept are the smallest. Partial
 * groupings over disjoint sets of instances (batches, or summarizers) merge into exactly the
 * grouping of all of them. Pure: no I/O, no clock.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { INSTANCE_STATUSES, statusClass, type InstanceStatus, type StatusClass } from '../cloud-assistant/statuses.ts';
import { outputNormaliser, type OutputGroupingRules, type OutputNormaliser } from './output-normalise.ts';
import type { InstanceResult } from './result.ts';

/**
 * Instance ids a group lists (the smallest, by id); its count is always exact. A presentation choice
 * of fleetrun's, not a platform limit: the report links to every instance of a group anyway.
 */
export const GROUP_INSTANCE_IDS = 50;

/** What a result contributes to its group. An instance never sent is given as Aborted or Cancelled with its reason as the error code, as the summary shows it. */
export type GroupedResult = Pick<InstanceResult, 'instanceId' | 'status' | 'exitCode' | 'errorCode' | 'output'>;

export interface OutputGroup {
  /** SHA-256 (hex) of status, exit code, error code and the whole normalised output: the same answer has the same key in every run. */
  key: string;
  status: InstanceStatus;
  exitCode: number;
  errorCode: string;
  /** The normalised output every member gave, its last `outputChars` characters. */
  output: string;
  /** Length of the whole normalised output, so a reader can tell `output` was cut. */
  outputChars: number;
  /** Instances in the group: exact. */
  count: number;
  /** The first `instanceIdsKept` of them, by id. */
  instanceIds: string[];
}

export interface OutputGrouperOptions {
  /** Normalisation rules: the catalog entry's `group`, or none (exact up to trailing whitespace). */
  rules?: OutputGroupingRules;
  /** Characters of each group's output kept; summarize passes the tail its instances keep (tailCharsFor). */
  outputChars: number;
  /** Instance ids each group lists; GROUP_INSTANCE_IDS unless given. */
  instanceIdsKept?: number;
}

/** A grouping as plain data, for summary.json or for handing a partial grouping to another summarizer. */
export const outputGroupingStateSchema = z.strictObject({
  version: z.literal(1),
  /** The rules and bounds it was made with: only equal ones merge. */
  config: z.string(),
  groups: z.array(
    z.strictObject({
      key: z.string().regex(/^[0-9a-f]{64}$/),
      status: z.enum(INSTANCE_STATUSES),
      exitCode: z.number().int(),
      errorCode: z.string(),
      output: z.string(),
      outputChars: z.number().int().nonnegative(),
      count: z.number().int().positive(),
      instanceIds: z.array(z.string()),
    }),
  ),
});
export type OutputGroupingState = z.output<typeof outputGroupingStateSchema>;

/** Groups that need looking at come first: failed, then stopped, then the rest; larger groups first within each. */
const CLASS_RANK: Record<StatusClass, number> = { failed: 0, stopped: 1, running: 2, success: 3 };
const STATUS_RANK = new Map<InstanceStatus, number>(INSTANCE_STATUSES.map((s, n) => [s, n]));

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order groups are shown in; total, so equal groupings list their groups alike. */
export function compareGroups(a: OutputGroup, b: OutputGroup): number {
  return (
    CLASS_RANK[statusClass(a.status)] - CLASS_RANK[statusClass(b.status)] ||
    b.count - a.count ||
    STATUS_RANK.get(a.status)! - STATUS_RANK.get(b.status)! ||
    a.exitCode - b.exitCode ||
    compareText(a.errorCode, b.errorCode) ||
    compareText(a.output, b.output) ||
    compareText(a.key, b.key)
  );
}

/** A copy that owns its characters: V8's slices and replace results keep the whole source string alive. */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** Code units to keep from the end so a surrogate pair is not cut in half. */
function tail(text: string, chars: number): string {
  if (text.length <= chars) return text;
  let start = text.length - chars;
  const unit = text.charCodeAt(start);
  if (unit >= 0xdc00 && unit <= 0xdfff) start++;
  return text.slice(start);
}

/** `ids` sorted ascending, with `id` put in its place, at most `limit` long. */
function insertKept(ids: string[], id: string, limit: number): void {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  if (lo >= limit) return;
  // merge() refuses overlapping groupings before it changes anything, so this is an invariant.
  if (ids[lo] === id) throw new Error(`instance ${id} is in both groupings: merged groupings cover different instances`);
  ids.splice(lo, 0, id);
  if (ids.length > limit) ids.pop();
}

export class OutputGrouper {
  private readonly normaliser: OutputNormaliser;
  private readonly outputChars: number;
  private readonly idsKept: number;
  private readonly config: string;
  private readonly byKey = new Map<string, OutputGroup>();
  /** Every instance added or merged from a grouper: a second result for one is ignored, as SummaryBuilder ignores it. */
  private readonly seen = new Set<string>();

  constructor(options: OutputGrouperOptions) {
    if (!Number.isInteger(options.outputChars) || options.outputChars < 0) throw new Error(`outputChars must be a whole number, 0 or more: ${options.outputChars}`);
    const idsKept = options.instanceIdsKept ?? GROUP_INSTANCE_IDS;
    if (!Number.isInteger(idsKept) || idsKept < 0) throw new Error(`instanceIdsKept must be a whole number, 0 or more: ${idsKept}`);
    this.normaliser = outputNormaliser(options.rules);
    this.outputChars = options.outputChars;
    this.idsKept = idsKept;
    this.config = JSON.stringify({ rules: this.normaliser.rules, outputChars: this.outputChars, instanceIdsKept: idsKept });
  }

  /**
   * Adds one instance's result and answers the key of its group (for linking the instance to it);
   * undefined, and nothing changes, for an instance already grouped: the first result wins, as in SummaryBuilder.
   */
  add(result: GroupedResult): string | undefined {
    if (this.seen.has(result.instanceId)) return undefined;
    this.seen.add(ownCopy(result.instanceId));
    const normalised = this.normaliser.normalise(result.output);
    // NUL cannot occur in the decimal exit code or in a status, so the fields cannot run into each other.
    const key = createHash('sha256').update(`${result.status}\0${result.exitCode}\0${result.errorCode}\0`).update(normalised).digest('hex');
    const group = this.byKey.get(key);
    if (group) {
      group.count++;
      insertKept(group.instanceIds, result.instanceId, this.idsKept);
      return key;
    }
    this.byKey.set(key, {
      key,
      status: result.status,
      exitCode: result.exitCode,
      errorCode: result.errorCode,
      output: ownCopy(tail(normalised, this.outputChars)),
      outputChars: normalised.length,
      count: 1,
      instanceIds: this.idsKept > 0 ? [ownCopy(result.instanceId)] : [],
    });
    return key;
  }

  /**
   * Folds another grouping, made with the same options over other instances, into this one. From
   * a grouper, an instance both grouped is refused whole; from a state (another summarizer's), only
   * the ids it lists can be checked, so its instances must be disjoint from this one's by
   * construction — as batches of one run's stored results are.
   */
  merge(other: OutputGrouper | OutputGroupingState): void {
    const state = other instanceof OutputGrouper ? other.state() : outputGroupingStateSchema.parse(other);
    if (state.config !== this.config) throw new Error('only groupings made with the same rules, outputChars and instanceIdsKept merge');
    const incoming = other instanceof OutputGrouper ? other.seen : state.groups.flatMap((g) => g.instanceIds);
    for (const id of incoming) if (this.seen.has(id)) throw new Error(`instance ${id} is in both groupings: merged groupings cover different instances`);
    for (const id of incoming) this.seen.add(id);
    for (const g of state.groups) {
      const mine = this.byKey.get(g.key);
      if (!mine) {
        this.byKey.set(g.key, { ...g, instanceIds: [...g.instanceIds] });
        continue;
      }
      mine.count += g.count;
      for (const id of g.instanceIds) insertKept(mine.instanceIds, id, this.idsKept);
    }
  }

  /** Instances grouped so far. */
  get instanceCount(): number {
    let n = 0;
    for (const g of this.byKey.values()) n += g.count;
    return n;
  }

  get groupCount(): number {
    return this.byKey.size;
  }

  /** The groups, failures first, then by size (compareGroups). */
  build(): OutputGroup[] {
    return [...this.byKey.values()].map((g) => ({ ...g, instanceIds: [...g.instanceIds] })).sort(compareGroups);
  }

  /** This grouping as plain data that `merge` takes back, in the order of `build`. */
  state(): OutputGroupingState {
    return { version: 1, config: this.config, groups: this.build() };
  }
}
