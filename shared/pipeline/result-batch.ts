/**
 * A batch of stored results as one object (`runs/<id>/stored/<hash>-<n>`): a header naming its n
 * instances, one a line, `<id>\tfailed` for those whose result is not a success; an empty line;
 * then the results themselves, one JSON document a line, in the header's order. The name is the
 * hash of those bytes, so the same batch delivered again lands on the same key (written once), and
 * n, so a reader can tell from a listing alone whether the run's batches can cover it yet.
 *
 * The earlier layout's markers have the same name without `-<n>` and the header alone: their
 * results are objects of their own (`runs/<id>/results/<instance>.json`).
 */
import { createHash } from 'node:crypto';
import { statusClass } from '../cloud-assistant/statuses.ts';
import { instanceResultSchema, type InstanceResult } from '../runs/result.ts';

export interface ResultBatch {
  instanceIds: readonly string[];
  /** Those whose result is not a success. */
  failed: ReadonlySet<string>;
  /** In the header's order; undefined for a marker of the earlier layout, or when not asked for. */
  results: InstanceResult[] | undefined;
}

const NAME = /^([0-9a-f]{32})(?:-(\d+))?$/;

/** The batch's object name and bytes; one result per instance, the first given for it. */
export function encodeResultBatch(results: readonly InstanceResult[]): { name: string; body: string; batch: ResultBatch } {
  const byInstance = new Map<string, InstanceResult>();
  for (const r of results) if (!byInstance.has(r.instanceId)) byInstance.set(r.instanceId, r);
  const sorted = [...byInstance.values()].sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
  const failed = new Set(sorted.filter((r) => statusClass(r.status) !== 'success').map((r) => r.instanceId));
  const header = sorted.map((r) => (failed.has(r.instanceId) ? `${r.instanceId}\tfailed` : r.instanceId)).join('\n');
  const body = `${header}\n\n${sorted.map((r) => JSON.stringify(r)).join('\n')}\n`;
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 32);
  return { name: `${hash}-${sorted.length}`, body, batch: { instanceIds: sorted.map((r) => r.instanceId), failed, results: sorted } };
}

/**
 * The instances a batch object's name says it holds; undefined for a marker of the earlier layout
 * (which must be read to be counted), null for a name that is neither.
 */
export function countInName(name: string): number | undefined | null {
  const m = NAME.exec(name);
  if (!m) return null;
  return m[2] === undefined ? undefined : Number(m[2]);
}

/** Reads a batch object (or an earlier marker); its results are parsed only when asked for. */
export function decodeResultBatch(body: string, withResults: boolean): ResultBatch {
  return decodeResultBatchBytes(Buffer.from(body, 'utf8'), withResults);
}

/**
 * The same from the object's bytes. The header and the results are turned into text apart: ids cut
 * from one text keep all of it alive (V8 keeps a cut as a slice of its parent), and a batch of 100
 * large outputs is megabytes while its header is a few kilobytes — a run's names are kept for as
 * long as the run is, its outputs only until folded.
 */
export function decodeResultBatchBytes(body: Buffer, withResults: boolean): ResultBatch {
  const split = body.indexOf('\n\n');
  const header = (split < 0 ? body : body.subarray(0, split)).toString('utf8');
  const instanceIds: string[] = [];
  const failed = new Set<string>();
  for (const line of header.split('\n')) {
    const [id, flag] = line.split('\t');
    if (!id) continue;
    instanceIds.push(id);
    if (flag === 'failed') failed.add(id);
  }
  if (split < 0 || !withResults) return { instanceIds, failed, results: undefined };
  const results = body
    .subarray(split + 2)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => instanceResultSchema.parse(JSON.parse(line)));
  return { instanceIds, failed, results };
}
