/**
 * The listing walk shared by ListObjects (v1) and ListObjectsV2, and their common parameters.
 */
import { OssError } from '../errors.ts';
import type { DiskObjectStore, ObjectRecord } from '../store.ts';
import { compareUtf8, isoDate, utf8Length, type Query } from '../wire.ts';
import type { XmlElement } from '../xml.ts';

/** `max-keys` when the request has none. */
export const DEFAULT_MAX_KEYS = 100;
/** Largest `max-keys` OSS accepts. */
export const MAX_MAX_KEYS = 1000;

/** Where a listing page starts and what it covers. */
export interface ListParams {
  prefix: string;
  delimiter: string;
  /** List only entries strictly after this one (marker, start-after, or the continuation position). */
  after: string;
  maxKeys: number;
}

/** One page of a listing, before it is rendered as v1 or v2 XML. */
export interface ListPage {
  contents: ObjectRecord[];
  prefixes: string[];
  truncated: boolean;
  /** The last entry returned (key or common prefix): where the next page starts. */
  last: string | undefined;
}

/** The first index whose key sorts strictly after `bound` (or at/after it when `inclusive`). */
function lowerBound(keys: readonly string[], bound: string, inclusive: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareUtf8(keys[mid]!, bound);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One page of a listing in UTF-8 key order. Keys and common prefixes both count against `maxKeys`.
 * A common prefix equal to `after` was the last entry of the previous page, so the keys rolled up
 * under it are skipped rather than reported again.
 */
export function listPage(store: DiskObjectStore, bucket: string, params: ListParams): ListPage {
  const page: ListPage = { contents: [], prefixes: [], truncated: false, last: undefined };
  if (params.maxKeys === 0) return page;
  const keys = store.sortedKeys(bucket);
  let i = Math.max(lowerBound(keys, params.prefix, true), params.after === '' ? 0 : lowerBound(keys, params.after, false));
  for (; i < keys.length; i++) {
    const key = keys[i]!;
    // Keys sharing a prefix are contiguous in byte order, so the first key outside it ends the walk.
    if (!key.startsWith(params.prefix)) break;
    let entry = key;
    let isPrefix = false;
    if (params.delimiter !== '') {
      const at = key.indexOf(params.delimiter, params.prefix.length);
      if (at >= 0) {
        entry = key.slice(0, at + params.delimiter.length);
        isPrefix = true;
        if (entry === params.after || entry === page.last) continue;
      }
    }
    if (page.contents.length + page.prefixes.length === params.maxKeys) {
      page.truncated = true;
      break;
    }
    if (isPrefix) page.prefixes.push(entry);
    else page.contents.push(store.head(bucket, key)!);
    page.last = entry;
  }
  return page;
}

/** `max-keys`: default 100, an integer 0..1000, otherwise InvalidArgument. */
export function parseMaxKeys(query: Query): number {
  const raw = query.get('max-keys');
  if (raw === undefined || raw === null || raw === '') return DEFAULT_MAX_KEYS;
  if (!/^\d+$/.test(raw) || Number(raw) > MAX_MAX_KEYS) {
    throw new OssError('InvalidArgument', `max-keys must be an integer from 0 to ${MAX_MAX_KEYS}.`, { details: { ArgumentName: 'max-keys', ArgumentValue: raw } });
  }
  return Number(raw);
}

/** A string parameter limited like a key (at most 1023 bytes). */
export function keyLikeParam(query: Query, name: string): string {
  const v = query.get(name) ?? '';
  if (utf8Length(v) > 1023) throw new OssError('InvalidArgument', `${name} must be at most 1023 bytes.`, { details: { ArgumentName: name } });
  return v;
}

/** `encoding-type`: absent or `url`. With `url`, keys and prefixes in the answer are percent-encoded. */
export function parseEncoding(query: Query): ((s: string) => string) & { type?: 'url' } {
  const raw = query.get('encoding-type');
  if (raw === undefined || raw === null || raw === '') return (s: string) => s;
  if (raw !== 'url') throw new OssError('InvalidArgument', 'encoding-type must be "url".', { details: { ArgumentName: 'encoding-type', ArgumentValue: raw } });
  return Object.assign((s: string) => encodeURIComponent(s), { type: 'url' as const });
}

/** A `<Contents>` entry. */
export function contentsXml(record: ObjectRecord, encode: (s: string) => string, owner?: { id: string; displayName: string }): XmlElement {
  return {
    Key: encode(record.key),
    LastModified: isoDate(record.lastModified),
    ETag: `"${record.etag}"`,
    Type: 'Normal',
    Size: record.size,
    StorageClass: 'Standard',
    Owner: owner ? { ID: owner.id, DisplayName: owner.displayName } : undefined,
  };
}
