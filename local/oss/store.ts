/**
 * The local OSS service's object storage: buckets and objects on disk, with an in-memory index.
 *
 * Layout under `dataDir`:
 * ```
 * <dataDir>/<bucket>/                      one folder per bucket (bucket names are already file-name safe)
 * <dataDir>/<bucket>/objects/<hh>/<h>.json         sidecar: key, size, ETag, CRC-64, Content-Type, x-oss-meta-*, …
 * <dataDir>/<bucket>/objects/<hh>/<h>.<v>.data     the bytes; <v> is a random version id, the file is never rewritten
 * <dataDir>/<bucket>/tmp/                  uploads in flight; emptied at start
 * ```
 * `<h>` is the lower-case hex SHA-256 of the key's UTF-8 bytes and `<hh>` its first two characters.
 * Keys are arbitrary strings of up to 1023 bytes: `/`, `..`, a trailing `/`, `a` next to `a/b`, and
 * names that differ only in case (on a case-insensitive file system) all map to distinct, short,
 * safe names this way; the readable key lives in the sidecar.
 *
 * Crash safety: a PUT streams into `tmp/`, fsyncs, renames the data into place under a fresh version
 * name, then writes the sidecar to `tmp/` and renames it over the old one. That rename is the commit:
 * before it, readers (and a restart) see the old object; after it, the new one. Data files no sidecar
 * points to are leftovers of an interrupted PUT or DELETE and are removed at start. The fsyncs
 * (data and sidecar, before their renames) make that hold across a power cut too; without them
 * (`fsync: false`) it holds across restarts of the process, at a third of a PUT's cost.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isValidBucketName } from './addressing.ts';
import { Crc64 } from './crc64.ts';
import { OssError } from './errors.ts';
import { compareUtf8 } from './wire.ts';
import { randomHex } from '../random-hex.ts';

/** One stored object, as kept in the index and in its sidecar. */
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
  /** Name of the data file inside the object's `<hh>` folder. */
  dataFile: string;
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

/** An object opened for reading: the record it was opened under and a handle on exactly those bytes. */
export interface OpenedObject {
  record: ObjectRecord;
  /** Stays valid even if the object is replaced or deleted meanwhile; the caller must close it. */
  handle: FileHandle;
}

interface BucketState {
  dir: string;
  objects: Map<string, ObjectRecord>;
  /** Keys in UTF-8 byte order; rebuilt lazily after a key was added or removed. */
  sorted: string[] | null;
}

const SIDECAR_VERSION = 1;

/** Buckets and objects on disk under one folder; see the module comment for the layout. */
export class DiskObjectStore {
  readonly dataDir: string;
  readonly #buckets = new Map<string, BucketState>();
  // Commits to one key run one after the other, so "forbid overwrite" and "delete the previous data
  // file" see a settled state. Uploads themselves (the slow part) run in parallel.
  readonly #locks = new Map<string, Promise<void>>();
  #fsync = true;
  readonly #madeDirs = new Set<string>();
  readonly #pending = new Set<Promise<unknown>>();
  #log: (line: string) => void;

  private constructor(dataDir: string, log: (line: string) => void) {
    this.dataDir = dataDir;
    this.#log = log;
  }

  /** Opens (creating if needed) the store in `dataDir` and loads every object left by an earlier run. */
  static async open(dataDir: string, options: { log?: (line: string) => void; fsync?: boolean } = {}): Promise<DiskObjectStore> {
    const store = new DiskObjectStore(path.resolve(dataDir), options.log ?? (() => {}));
    store.#fsync = options.fsync ?? true;
    await mkdir(store.dataDir, { recursive: true });
    for (const entry of await readdir(store.dataDir, { withFileTypes: true })) {
      if (entry.isDirectory() && isValidBucketName(entry.name)) await store.#loadBucket(entry.name);
    }
    return store;
  }

  /** Creates a bucket; does nothing if it exists. */
  async createBucket(name: string): Promise<void> {
    if (!isValidBucketName(name)) throw new OssError('InvalidBucketName', undefined, { details: { BucketName: name } });
    if (this.#buckets.has(name)) return;
    const dir = path.join(this.dataDir, name);
    await mkdir(path.join(dir, 'objects'), { recursive: true });
    await mkdir(path.join(dir, 'tmp'), { recursive: true });
    if (!this.#buckets.has(name)) this.#buckets.set(name, { dir, objects: new Map(), sorted: null });
  }

  /** True when the bucket exists. */
  hasBucket(name: string): boolean {
    return this.#buckets.has(name);
  }

  /** Bucket names, sorted. */
  bucketNames(): string[] {
    return [...this.#buckets.keys()].sort();
  }

  /** The record of an object, or undefined. */
  head(bucket: string, key: string): ObjectRecord | undefined {
    return this.#buckets.get(bucket)?.objects.get(key);
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
    try {
      return await opened.handle.readFile();
    } finally {
      await opened.handle.close();
    }
  }

  /**
   * Opens an object for reading. Returns undefined if it does not exist. The handle pins the bytes:
   * a concurrent overwrite or delete unlinks the file but cannot change what this reader sees.
   */
  async openObject(bucket: string, key: string): Promise<OpenedObject | undefined> {
    const state = this.#bucket(bucket);
    // The record can be replaced between the lookup and the open (the old data file is then gone);
    // looking again picks up the new record.
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = state.objects.get(key);
      if (!record) return undefined;
      try {
        return { record, handle: await open(this.#dataPath(state, key, record.dataFile), 'r') };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    throw new OssError('InternalError', 'The object kept changing while it was being opened; try again.');
  }

  /**
   * Stores an object from a stream of chunks, never holding more than one chunk in memory.
   * Rejects with an {@link OssError} (`FileAlreadyExists`, `InvalidDigest`, `EntityTooLarge`, `NoSuchBucket`).
   */
  put(bucket: string, key: string, body: AsyncIterable<Uint8Array> | Uint8Array, input: PutObjectInput): Promise<ObjectRecord> {
    return this.#track(this.#put(bucket, key, body, input));
  }

  /** Deletes an object; resolves false if there was none. */
  delete(bucket: string, key: string): Promise<boolean> {
    return this.#track(
      this.#withLock(bucket, key, async () => {
        const state = this.#bucket(bucket);
        const record = state.objects.get(key);
        if (!record) return false;
        // Removing the sidecar is the commit; the data file alone is garbage collected at start.
        await rm(this.#sidecarPath(state, key), { force: true });
        state.objects.delete(key);
        if (state.sorted) state.sorted.splice(sortedIndex(state.sorted, key), 1);
        await rm(this.#dataPath(state, key, record.dataFile), { force: true });
        return true;
      }),
    );
  }

  /** Waits for PUTs and DELETEs in flight. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  async #put(bucket: string, key: string, body: AsyncIterable<Uint8Array> | Uint8Array, input: PutObjectInput): Promise<ObjectRecord> {
    const state = this.#bucket(bucket);
    if (input.forbidOverwrite && state.objects.has(key)) throw alreadyExists(key);
    const maxBytes = input.maxBytes ?? Number.POSITIVE_INFINITY;
    const tmpData = path.join(state.dir, 'tmp', `${randomHex(12)}.data`);
    const md5 = createHash('md5');
    const crc = new Crc64();
    let size = 0;
    let tooLarge = false;
    const file = await open(tmpData, 'wx');
    let committed = false;
    try {
      try {
        for await (const chunk of body instanceof Uint8Array ? [body] : body) {
          size += chunk.length;
          // Keep reading but stop writing: breaking out of the loop would destroy the request stream
          // and the client would see a reset connection instead of EntityTooLarge.
          if (size > maxBytes) tooLarge = true;
          if (tooLarge) continue;
          md5.update(chunk);
          crc.update(chunk);
          await writeAll(file, chunk);
        }
        if (!tooLarge && this.#fsync) await file.sync();
      } finally {
        await file.close();
      }
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
        dataFile: `${keyHash(key)}.${randomHex(8)}.data`,
      };
      return await this.#withLock(bucket, key, async () => {
        if (!this.#buckets.has(bucket)) throw noSuchBucket(bucket);
        const previous = state.objects.get(key);
        if (input.forbidOverwrite && previous) throw alreadyExists(key);
        const dir = path.dirname(this.#sidecarPath(state, key));
        // 256 folders per bucket: create each once, not once per PUT.
        if (!this.#madeDirs.has(dir)) {
          await mkdir(dir, { recursive: true });
          this.#madeDirs.add(dir);
        }
        await rename(tmpData, this.#dataPath(state, key, record.dataFile));
        committed = true;
        await writeFileAtomic(path.join(state.dir, 'tmp', `${randomHex(12)}.json`), this.#sidecarPath(state, key), {
          v: SIDECAR_VERSION,
          ...record,
        }, this.#fsync);
        state.objects.set(key, record);
        // Kept in order as keys arrive: re-sorting a 20,000-key bucket for every listing cost more than the listings.
        if (!previous && state.sorted) state.sorted.splice(sortedIndex(state.sorted, key), 0, key);
        if (previous && previous.dataFile !== record.dataFile) await rm(this.#dataPath(state, key, previous.dataFile), { force: true });
        return record;
      });
    } finally {
      if (!committed) await rm(tmpData, { force: true });
    }
  }

  async #loadBucket(name: string): Promise<void> {
    const dir = path.join(this.dataDir, name);
    const state: BucketState = { dir, objects: new Map(), sorted: null };
    await rm(path.join(dir, 'tmp'), { recursive: true, force: true });
    await mkdir(path.join(dir, 'tmp'), { recursive: true });
    await mkdir(path.join(dir, 'objects'), { recursive: true });
    let orphans = 0;
    for (const shard of await readdir(path.join(dir, 'objects'), { withFileTypes: true })) {
      if (!shard.isDirectory()) continue;
      const shardDir = path.join(dir, 'objects', shard.name);
      const files = await readdir(shardDir);
      const referenced = new Set<string>();
      for (const f of files.filter((n) => n.endsWith('.json'))) {
        try {
          const { v, ...record } = JSON.parse(await readFile(path.join(shardDir, f), 'utf8')) as ObjectRecord & { v: number };
          if (v !== SIDECAR_VERSION || typeof record.key !== 'string') throw new Error(`unknown sidecar version ${v}`);
          state.objects.set(record.key, record);
          referenced.add(record.dataFile);
        } catch (e) {
          this.#log(`[oss] ignoring unreadable sidecar ${path.join(shardDir, f)}: ${(e as Error).message}`);
        }
      }
      for (const f of files.filter((n) => n.endsWith('.data') && !referenced.has(n))) {
        await rm(path.join(shardDir, f), { force: true });
        orphans++;
      }
    }
    if (orphans > 0) this.#log(`[oss] ${name}: removed ${orphans} data file(s) of interrupted writes`);
    this.#buckets.set(name, state);
  }

  #bucket(name: string): BucketState {
    const state = this.#buckets.get(name);
    if (!state) throw noSuchBucket(name);
    return state;
  }

  #sidecarPath(state: BucketState, key: string): string {
    const h = keyHash(key);
    return path.join(state.dir, 'objects', h.slice(0, 2), `${h}.json`);
  }

  #dataPath(state: BucketState, key: string, dataFile: string): string {
    return path.join(state.dir, 'objects', keyHash(key).slice(0, 2), dataFile);
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

/** SHA-256 hex of the key's UTF-8 bytes: the object's file name stem. */
export function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

async function writeFileAtomic(tmpPath: string, finalPath: string, value: unknown, fsync: boolean): Promise<void> {
  const file = await open(tmpPath, 'wx');
  try {
    await file.writeFile(JSON.stringify(value));
    if (fsync) await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(tmpPath, finalPath);
  } catch (e) {
    await rm(tmpPath, { force: true });
    throw e;
  }
}

function noSuchBucket(bucket: string): OssError {
  return new OssError('NoSuchBucket', undefined, { details: { BucketName: bucket } });
}

function alreadyExists(key: string): OssError {
  return new OssError('FileAlreadyExists', undefined, { details: { Key: key } });
}
