/**
 * The local OSS service's object storage: buckets and objects on disk, with an in-memory index.
 *
 * Layout under `dataDir`:
 * ```
 * <dataDir>/<bucket>/bucket.json    the bucket's region, owner, creation date, … (bucket-info.ts)
 * <dataDir>/<bucket>/log/<n>.seg    the bucket's object log: every PUT and DELETE, appended (object-log.ts)
 * <dataDir>/<bucket>/tmp/           uploads too big to hold in memory, while they arrive; emptied at start
 * ```
 * Keys are arbitrary strings of up to 1023 bytes (`/`, `..`, a trailing `/`, `a` next to `a/b`,
 * names that differ only in case): they live inside records, never in file names.
 *
 * Commit: an object is stored once its record is whole in the log; the index is updated then, so
 * readers and a restart see either the old object or the new one. Its bytes are never rewritten,
 * so a reader that looked an object up keeps reading exactly that version while it is replaced.
 * With `fsync`, a PUT or DELETE is acknowledged only once its record is synced (appends arriving
 * together share one sync), so it survives a power cut too; without, it survives restarts of the
 * process. A log that is mostly replaced or deleted objects is compacted when the store opens.
 *
 * A deleted bucket's folder is first renamed to `.deleted-<bucket>-<random>` (a name no bucket can
 * have), then removed; a folder left so by a crash is removed at the next open.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isValidBucketName } from './addressing.ts';
import { readBucketInfo, writeBucketInfo, type BucketDefaults, type BucketInfo } from './bucket-info.ts';
import { Crc64 } from './crc64.ts';
import { OssError } from './errors.ts';
import type { LifecycleRule } from './lifecycle.ts';
import { compactLog, ObjectLog, recoverCompaction, type DataLocation, type LogRecord } from './object-log.ts';
import { compareUtf8 } from './wire.ts';
import { writeFully } from '../file-writes.ts';
import { randomHex } from '../random-hex.ts';

/** One stored object, as kept in the index and in its log record. */
export interface ObjectRecord {
  key: string;
  size: number;
  /** Upper-case hex MD5 of the body, without quotes (the ETag of a simple upload). */
  etag: string;
  /** Base64 MD5, as in Content-MD5. */
  contentMd5: string;
  /** CRC-64/ECMA-182 in decimal, as in `x-oss-hash-crc64ecma`. */
  crc64: string;
  /** Milliseconds since the epoch; whole seconds, because HTTP dates carry no more. */
  lastModified: number;
  contentType: string;
  /** `x-oss-meta-*` without the prefix; names lower-case, values as received. */
  meta: Record<string, string>;
  /** Standard headers stored with the object and returned on GET (Cache-Control, Content-Disposition, …). */
  headers: Record<string, string>;
}

/** What a PUT stores besides the bytes. */
export interface PutObjectInput {
  contentType: string;
  meta?: Record<string, string>;
  headers?: Record<string, string>;
  /** Base64 MD5 the client sent; a mismatch fails the PUT with `InvalidDigest`. */
  contentMd5?: string;
  /** Fail with `FileAlreadyExists` instead of replacing an existing object. */
  forbidOverwrite?: boolean;
  /** Largest accepted body; a larger one fails with `EntityTooLarge` (the rest of the body is still read and dropped). */
  maxBytes?: number;
}

/** An object opened for reading: the record it was opened under and exactly that version's bytes. */
export interface OpenedObject {
  record: ObjectRecord;
  /** Bytes `start`..`end` (inclusive), read at once: for ranges small enough to hold. */
  bytes(start: number, end: number): Promise<Buffer>;
  /** Bytes `start`..`end` (inclusive) as a stream. */
  stream(start: number, end: number): Readable;
}

type LogHeader = ({ op: 'put' } & ObjectRecord) | { op: 'delete'; key: string };

interface Stored {
  record: ObjectRecord;
  at: DataLocation;
}

interface BucketState {
  dir: string;
  info: BucketInfo;
  log: ObjectLog<LogHeader>;
  objects: Map<string, Stored>;
  /** Keys in UTF-8 byte order; rebuilt lazily after a key was added or removed. */
  sorted: string[] | null;
}

export interface StoreOptions {
  log?: (line: string) => void;
  /** Sync every commit before acknowledging it (default true). */
  fsync?: boolean;
  /** Compact a log at open once it is bigger than this and mostly dead (default 64 MiB). */
  compactAfterBytes?: number;
  /** Size at which a log segment is closed for appends (default 128 MiB). */
  segmentBytes?: number;
  /** Region and owner of a bucket created without them, and of buckets stored before buckets had settings. */
  bucketDefaults?: BucketDefaults;
}

/** What a new bucket may be created with; the rest comes from the store's defaults. */
export type NewBucket = Partial<Omit<BucketInfo, 'name' | 'creationDate'>>;

/** Region and owner when the store is opened without {@link StoreOptions.bucketDefaults}. */
export const DEFAULT_BUCKET_DEFAULTS: BucketDefaults = { region: 'oss-cn-hangzhou', ownerAccountId: '1234567890123456' };

/** Bodies up to this size are held in memory while they arrive; larger ones go to `tmp/` first. */
const IN_MEMORY_BYTES = 1024 * 1024;
/** A log is compacted at start when it is bigger than this and more than half of it is dead records. */
const COMPACT_AFTER_BYTES = 64 * 1024 * 1024;

/** Buckets and objects on disk under one folder; see the module comment for the layout. */
export class DiskObjectStore {
  readonly dataDir: string;
  readonly #buckets = new Map<string, BucketState>();
  // Commits to one key run one after the other, so "forbid overwrite" sees a settled state and the
  // log holds a key's versions in the order the index took them. Uploads themselves run in parallel.
  readonly #locks = new Map<string, Promise<void>>();
  #fsync = true;
  #compactAfterBytes = COMPACT_AFTER_BYTES;
  #segmentBytes: number | undefined;
  #bucketDefaults: BucketDefaults = DEFAULT_BUCKET_DEFAULTS;
  readonly #pending = new Set<Promise<unknown>>();
  /** Object writes in flight (a subset of #pending): what deleting a bucket waits for. */
  readonly #writes = new Set<Promise<unknown>>();
  #log: (line: string) => void;

  private constructor(dataDir: string, log: (line: string) => void) {
    this.dataDir = dataDir;
    this.#log = log;
  }

  /** Opens (creating if needed) the store in `dataDir` and loads every object left by an earlier run. */
  static async open(dataDir: string, options: StoreOptions = {}): Promise<DiskObjectStore> {
    const store = new DiskObjectStore(path.resolve(dataDir), options.log ?? (() => {}));
    store.#fsync = options.fsync ?? true;
    store.#compactAfterBytes = options.compactAfterBytes ?? COMPACT_AFTER_BYTES;
    store.#segmentBytes = options.segmentBytes;
    store.#bucketDefaults = options.bucketDefaults ?? DEFAULT_BUCKET_DEFAULTS;
    await mkdir(store.dataDir, { recursive: true });
    for (const entry of await readdir(store.dataDir, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name.startsWith('.deleted-')) await rm(path.join(store.dataDir, entry.name), { recursive: true, force: true });
      else if (entry.isDirectory() && isValidBucketName(entry.name)) await store.#loadBucket(entry.name);
    }
    return store;
  }

  /**
   * Creates a bucket and resolves with its settings; resolves with the existing bucket's settings,
   * unchanged, if it exists (callers compare them with what they asked for).
   */
  async createBucket(name: string, settings: NewBucket = {}): Promise<BucketInfo> {
    if (!isValidBucketName(name)) throw new OssError('InvalidBucketName', undefined, { details: { BucketName: name } });
    const existing = this.#buckets.get(name);
    if (existing) return existing.info;
    return this.#track(
      this.#withLock(name, '', async () => {
        const raced = this.#buckets.get(name);
        if (raced) return raced.info;
        const info: BucketInfo = {
          name,
          region: settings.region ?? this.#bucketDefaults.region,
          ownerAccountId: settings.ownerAccountId ?? this.#bucketDefaults.ownerAccountId,
          creationDate: Date.now(),
          storageClass: settings.storageClass ?? 'Standard',
          acl: settings.acl ?? 'private',
          dataRedundancyType: settings.dataRedundancyType ?? 'LRS',
          ...(settings.lifecycle ? { lifecycle: settings.lifecycle } : {}),
        };
        const dir = path.join(this.dataDir, name);
        await mkdir(dir, { recursive: true });
        await writeBucketInfo(dir, info, this.#fsync);
        await this.#loadBucket(name);
        return info;
      }),
    );
  }

  /** Replaces a bucket's ACL (PutBucket by its owner on an existing bucket). */
  setBucketAcl(name: string, acl: BucketInfo['acl']): Promise<BucketInfo> {
    return this.#updateInfo(name, (info) => (info.acl === acl ? info : { ...info, acl }));
  }

  /** Replaces a bucket's lifecycle rules (already checked: lifecycle.ts), or removes them all with undefined. */
  setBucketLifecycle(name: string, rules: LifecycleRule[] | undefined): Promise<BucketInfo> {
    return this.#updateInfo(name, ({ lifecycle: _old, ...info }) => (rules ? { ...info, lifecycle: rules } : info));
  }

  // Under the bucket's lock, as createBucket and deleteBucket are, so two changes of settings never
  // write bucket.json at once and neither lands on a bucket deleted meanwhile.
  #updateInfo(name: string, change: (info: BucketInfo) => BucketInfo): Promise<BucketInfo> {
    return this.#track(
      this.#withLock(name, '', async () => {
        const state = this.#bucket(name);
        const info = change(state.info);
        if (info === state.info) return info;
        await writeBucketInfo(state.dir, info, this.#fsync);
        state.info = info;
        return info;
      }),
    );
  }

  /**
   * Deletes an empty bucket and everything kept for it.
   * @throws OssError NoSuchBucket, or BucketNotEmpty while it holds an object
   */
  deleteBucket(name: string): Promise<void> {
    return this.#track(this.#deleteBucket(name));
  }

  #deleteBucket(name: string): Promise<void> {
    return this.#withLock(name, '', async () => {
      const state = this.#bucket(name);
      if (state.objects.size > 0) throw bucketNotEmpty(name);
      // Out of the index first, so a PUT that has not committed yet fails with NoSuchBucket;
      // one that got in before is waited for, and puts the bucket back as not empty.
      this.#buckets.delete(name);
      await Promise.allSettled([...this.#writes]);
      if (state.objects.size > 0) {
        this.#buckets.set(name, state);
        throw bucketNotEmpty(name);
      }
      await state.log.close();
      const doomed = path.join(this.dataDir, `.deleted-${name}-${randomHex(6)}`);
      await rename(state.dir, doomed);
      await rm(doomed, { recursive: true, force: true });
    });
  }

  /** True when the bucket exists. */
  hasBucket(name: string): boolean {
    return this.#buckets.has(name);
  }

  /** A bucket's settings, or undefined when there is no such bucket. */
  bucketInfo(name: string): BucketInfo | undefined {
    return this.#buckets.get(name)?.info;
  }

  /** Bucket names, sorted. */
  bucketNames(): string[] {
    return [...this.#buckets.keys()].sort();
  }

  /** The record of an object, or undefined. */
  head(bucket: string, key: string): ObjectRecord | undefined {
    return this.#buckets.get(bucket)?.objects.get(key)?.record;
  }

  /** All keys of a bucket in UTF-8 byte order (the order OSS lists in). Do not modify. */
  sortedKeys(bucket: string): readonly string[] {
    const state = this.#bucket(bucket);
    state.sorted ??= [...state.objects.keys()].sort(compareUtf8);
    return state.sorted;
  }

  /** Keys under a prefix, in listing order; a convenience for tests and tools. */
  list(bucket: string, prefix = ''): string[] {
    return this.sortedKeys(bucket).filter((k) => k.startsWith(prefix));
  }

  /** The whole body of an object, or undefined; a convenience for tests and tools. */
  async read(bucket: string, key: string): Promise<Buffer | undefined> {
    const opened = await this.openObject(bucket, key);
    if (!opened) return undefined;
    return opened.record.size === 0 ? Buffer.alloc(0) : opened.bytes(0, opened.record.size - 1);
  }

  /** Opens an object for reading, or undefined if it does not exist. Replacing or deleting it later does not change what this reader sees. */
  async openObject(bucket: string, key: string): Promise<OpenedObject | undefined> {
    const state = this.#bucket(bucket);
    const stored = state.objects.get(key);
    if (!stored) return undefined;
    const { record, at } = stored;
    return {
      record,
      bytes: (start, end) => state.log.read(at, start, end),
      stream: (start, end) => state.log.stream(at, start, end),
    };
  }

  /**
   * Stores an object from a stream of chunks; a body bigger than a megabyte is spooled to disk, not held.
   * Rejects with an {@link OssError} (`FileAlreadyExists`, `InvalidDigest`, `EntityTooLarge`, `NoSuchBucket`).
   */
  put(bucket: string, key: string, body: AsyncIterable<Uint8Array> | Uint8Array, input: PutObjectInput): Promise<ObjectRecord> {
    const write = this.#put(bucket, key, body, input);
    this.#writes.add(write);
    const done = (): void => {
      this.#writes.delete(write);
    };
    write.then(done, done);
    return this.#track(write);
  }

  /** Deletes an object; resolves false if there was none. */
  delete(bucket: string, key: string): Promise<boolean> {
    return this.#deleteIf(bucket, key, () => true);
  }

  /**
   * Deletes an object only if it is still exactly the version `record` describes; resolves false if
   * it was replaced or deleted meanwhile. What lifecycle expiry uses, so an object written again
   * after it was found expired is kept.
   * @throws OssError NoSuchBucket when the bucket is gone
   */
  deleteIfUnchanged(bucket: string, record: ObjectRecord): Promise<boolean> {
    return this.#deleteIf(bucket, record.key, (current) => current === record);
  }

  #deleteIf(bucket: string, key: string, condition: (current: ObjectRecord) => boolean): Promise<boolean> {
    return this.#track(
      this.#withLock(bucket, key, async () => {
        const state = this.#bucket(bucket);
        const current = state.objects.get(key);
        if (!current || !condition(current.record)) return false;
        await state.log.append({ op: 'delete', key }, { buffers: [] });
        state.objects.delete(key);
        if (state.sorted) state.sorted.splice(sortedIndex(state.sorted, key), 1);
        return true;
      }),
    );
  }

  /** Waits for PUTs and DELETEs in flight, then closes the logs. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
    for (const state of this.#buckets.values()) await state.log.close();
  }

  async #put(bucket: string, key: string, body: AsyncIterable<Uint8Array> | Uint8Array, input: PutObjectInput): Promise<ObjectRecord> {
    const state = this.#bucket(bucket);
    if (input.forbidOverwrite && state.objects.has(key)) throw alreadyExists(key);
    const maxBytes = input.maxBytes ?? Number.POSITIVE_INFINITY;
    const md5 = createHash('md5');
    const crc = new Crc64();
    const held: Uint8Array[] = [];
    let spool: { file: string; handle: FileHandle } | undefined;
    let size = 0;
    let tooLarge = false;
    try {
      for await (const chunk of body instanceof Uint8Array ? [body] : body) {
        size += chunk.length;
        // Keep reading but stop storing: breaking out of the loop would destroy the request stream
        // and the client would see a reset connection instead of EntityTooLarge.
        if (size > maxBytes) tooLarge = true;
        if (tooLarge) continue;
        md5.update(chunk);
        crc.update(chunk);
        if (!spool && size > IN_MEMORY_BYTES) {
          const file = path.join(state.dir, 'tmp', `${randomHex(12)}.upload`);
          spool = { file, handle: await open(file, 'wx') };
          await writeFully(spool.handle, held.splice(0), 0);
        }
        if (spool) await writeFully(spool.handle, [chunk], size - chunk.length);
        else held.push(chunk);
      }
      await spool?.handle.close();
      if (tooLarge) {
        throw new OssError('EntityTooLarge', `Your proposed upload of ${size} bytes exceeds the maximum allowed object size of ${maxBytes} bytes.`, {
          details: { MaxSizeAllowed: String(maxBytes), ProposedSize: String(size) },
        });
      }
      const digest = md5.digest();
      const contentMd5 = digest.toString('base64');
      if (input.contentMd5 !== undefined && input.contentMd5 !== contentMd5) {
        throw new OssError('InvalidDigest', 'The Content-MD5 you specified is not the MD5 of the body that arrived.', {
          details: { ContentMD5Provided: input.contentMd5, ContentMD5Calculated: contentMd5 },
        });
      }
      const record: ObjectRecord = {
        key,
        size,
        etag: digest.toString('hex').toUpperCase(),
        contentMd5,
        crc64: crc.digest(),
        lastModified: Math.floor(Date.now() / 1000) * 1000,
        contentType: input.contentType,
        meta: { ...input.meta },
        headers: { ...input.headers },
      };
      return await this.#withLock(bucket, key, async () => {
        // The same state, not only the same name: the bucket may have been deleted and made again.
        if (this.#buckets.get(bucket) !== state) throw noSuchBucket(bucket);
        const previous = state.objects.get(key);
        if (input.forbidOverwrite && previous) throw alreadyExists(key);
        const at = await state.log.append({ op: 'put', ...record }, spool ? { file: spool.file, length: size } : { buffers: held });
        state.objects.set(key, { record, at });
        // Kept in order as keys arrive: re-sorting a 20,000-key bucket for every listing cost more than the listings.
        if (!previous && state.sorted) state.sorted.splice(sortedIndex(state.sorted, key), 0, key);
        return record;
      });
    } finally {
      if (spool) {
        await spool.handle.close().catch(() => {});
        await rm(spool.file, { force: true });
      }
    }
  }

  async #loadBucket(name: string): Promise<void> {
    const dir = path.join(this.dataDir, name);
    await rm(path.join(dir, 'tmp'), { recursive: true, force: true });
    await mkdir(path.join(dir, 'tmp'), { recursive: true });
    const logDir = path.join(dir, 'log');
    await recoverCompaction(logDir);
    const options = { fsync: this.#fsync, log: this.#log, ...(this.#segmentBytes ? { segmentBytes: this.#segmentBytes } : {}) };
    const opened = await ObjectLog.open<LogHeader>(logDir, options);
    let log = opened.log;
    let objects = replay(opened.records);
    const frames = new Map(opened.records.map((r) => [r.header.key, r.frameBytes ?? 0]));
    let liveBytes = 0;
    for (const key of objects.keys()) liveBytes += frames.get(key) ?? 0;
    if (opened.bytes > this.#compactAfterBytes && liveBytes < opened.bytes / 2) {
      await log.close();
      const kept = await compactLog(logDir, [...objects.values()].map((s) => ({ header: { op: 'put' as const, ...s.record }, at: s.at })), options);
      this.#log(`[oss] ${name}: compacted the object log from ${opened.bytes} to about ${liveBytes} bytes`);
      ({ log } = await ObjectLog.open<LogHeader>(logDir, options));
      objects = replay(kept);
    }
    const info = await readBucketInfo(dir, name, this.#bucketDefaults);
    const state: BucketState = { dir, info, log, objects, sorted: null };
    await this.#importSidecarLayout(name, state);
    this.#buckets.set(name, state);
  }

  /**
   * Moves objects stored by earlier versions of this store (a sidecar and a data file per object
   * under `objects/`) into the log, so a data folder from before keeps its objects.
   */
  async #importSidecarLayout(name: string, state: BucketState): Promise<void> {
    const objectsDir = path.join(state.dir, 'objects');
    if (!(await stat(objectsDir).then(() => true, () => false))) return;
    let imported = 0;
    for (const shard of await readdir(objectsDir)) {
      const shardDir = path.join(objectsDir, shard);
      for (const f of (await readdir(shardDir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'))) {
        try {
          const { v, dataFile, ...record } = JSON.parse(await readFile(path.join(shardDir, f), 'utf8')) as ObjectRecord & { v: number; dataFile: string };
          if (v !== 1 || typeof record.key !== 'string') continue;
          const data = await readFile(path.join(shardDir, dataFile));
          const at = await state.log.append({ op: 'put', ...record }, { buffers: [data] });
          state.objects.set(record.key, { record, at });
          imported++;
        } catch (e) {
          this.#log(`[oss] ${name}: could not import ${path.join(shardDir, f)}: ${(e as Error).message}`);
        }
      }
    }
    await rm(objectsDir, { recursive: true, force: true });
    this.#log(`[oss] ${name}: moved ${imported} object(s) from the sidecar layout into the object log`);
  }

  #bucket(name: string): BucketState {
    const state = this.#buckets.get(name);
    if (!state) throw noSuchBucket(name);
    return state;
  }

  async #withLock<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    const id = `${bucket}/${key}`;
    const before = this.#locks.get(id) ?? Promise.resolve();
    const run = before.then(fn);
    const settled = run.then(
      () => {},
      () => {},
    );
    this.#locks.set(id, settled);
    try {
      return await run;
    } finally {
      if (this.#locks.get(id) === settled) this.#locks.delete(id);
    }
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    const done = (): void => {
      this.#pending.delete(p);
    };
    p.then(done, done);
    return p;
  }
}

/** The objects a log's records leave, later records replacing earlier ones. */
function replay(records: LogRecord<LogHeader>[]): Map<string, Stored> {
  const objects = new Map<string, Stored>();
  for (const { header, at } of records) {
    if (header.op === 'delete') objects.delete(header.key);
    else objects.set(header.key, { record: recordOf(header), at });
  }
  return objects;
}

function recordOf(header: { op: 'put' } & ObjectRecord): ObjectRecord {
  const { op: _op, ...record } = header;
  return record;
}

/** Where `key` is, or would go, in keys sorted by {@link compareUtf8}. */
function sortedIndex(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareUtf8(sorted[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function noSuchBucket(bucket: string): OssError {
  return new OssError('NoSuchBucket', undefined, { details: { BucketName: bucket } });
}

function bucketNotEmpty(bucket: string): OssError {
  return new OssError('BucketNotEmpty', undefined, { details: { BucketName: bucket } });
}

function alreadyExists(key: string): OssError {
  return new OssError('FileAlreadyExists', undefined, { details: { Key: key } });
}
