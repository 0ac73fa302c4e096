/**
 * One bucket's objects as an append-only log: every PUT and DELETE is one framed record appended to
 * the current segment file, and an object's bytes never move once written. Creating, renaming and
 * closing a file per object cost a few hundred µs of kernel time each on an ext4 VM; an append is
 * one positional write, so a burst of small objects costs what a burst of small writes does.
 *
 * A record on disk:
 * ```
 * 'OSL1'  u32 header length  u48 data length  u16 0   header (JSON)   data   u32 CRC-32 of the frame head and header   u32 CRC-32 of the data   'OSLE'
 * ```
 * Appends are serialised, so records follow each other in the order they were committed. Reading a
 * segment back stops at the first record that is incomplete or fails its checks — what a crash in
 * the middle of an append leaves — and the file is cut there: every record before it was committed
 * whole, nothing after it was acknowledged (with `fsync`, an append resolves only once it is synced,
 * and appends that land while a sync runs share the next one).
 */
import { createReadStream, readSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { syncDirectory, writeFully, writeFullySync } from '../file-writes.ts';

const HEAD_MAGIC = 0x314c534f; // 'OSL1' read as little-endian
const TAIL_MAGIC = 0x454c534f; // 'OSLE'
const HEAD_BYTES = 16;
const TAIL_BYTES = 12;
/** A segment is closed for appends once it passes this size; a new one is started. */
const SEGMENT_BYTES = 128 * 1024 * 1024;
/** Records and reads up to this size are done synchronously (see #write). */
const SYNC_WRITE_BYTES = 64 * 1024;
/** Copies and checks go through buffers of this size, whatever the object's size. */
const CHUNK_BYTES = 1024 * 1024;

/** Where a record's data lies: in which segment, from which byte, and how long. */
export interface DataLocation {
  segment: number;
  offset: number;
  length: number;
}

/** A record as read back: its header and where its data is. */
export interface LogRecord<H> {
  header: H;
  at: DataLocation;
  /** The whole record's size in the segment, framing included (for records read back). */
  frameBytes?: number;
}

/** The data of an append: bytes in memory, or `length` bytes of a file from `offset` (default 0): a large upload spooled to disk, or a record being compacted. */
export type AppendData = { buffers: readonly Uint8Array[] } | { file: string; offset?: number; length: number };

export interface ObjectLogOptions {
  fsync: boolean;
  log: (line: string) => void;
  /** A segment is closed for appends once it passes this size (default 128 MiB; smaller in tests). */
  segmentBytes?: number;
}

function segmentName(n: number): string {
  return `${String(n).padStart(8, '0')}.seg`;
}

/** An append-only, segmented record log in one folder. Open it with {@link ObjectLog.open}. */
export class ObjectLog<H extends object> {
  readonly dir: string;
  readonly #options: ObjectLogOptions;
  readonly #readers = new Map<number, Promise<FileHandle>>();
  #segment: number;
  #writer: FileHandle;
  #end: number;
  #appending: Promise<unknown> = Promise.resolve();
  /** Appends written so far, and how many of them a sync has covered. */
  #written = 0;
  #synced = 0;
  #syncing: Promise<void> | undefined;
  #closed = false;

  private constructor(dir: string, segment: number, writer: FileHandle, end: number, options: ObjectLogOptions) {
    this.dir = dir;
    this.#segment = segment;
    this.#writer = writer;
    this.#end = end;
    this.#options = options;
  }

  /**
   * Opens the log in `dir` (creating it), cutting off a torn record at the end of any segment, and
   * returns every whole record in commit order.
   */
  static async open<H extends object>(dir: string, options: ObjectLogOptions): Promise<{ log: ObjectLog<H>; records: LogRecord<H>[]; bytes: number }> {
    await mkdir(dir, { recursive: true });
    const segments = (await readdir(dir))
      .filter((f) => /^\d{8}\.seg$/.test(f))
      .map((f) => Number(f.slice(0, 8)))
      .sort((a, b) => a - b);
    const records: LogRecord<H>[] = [];
    let last = { segment: 1, end: 0 };
    let bytes = 0;
    for (const segment of segments) {
      const { found, end } = await scanSegment<H>(path.join(dir, segmentName(segment)), segment, options.log);
      records.push(...found);
      last = { segment, end };
      bytes += end;
    }
    const writer = await open(path.join(dir, segmentName(last.segment)), segments.length === 0 ? 'w+' : 'r+');
    return { log: new ObjectLog<H>(dir, last.segment, writer, last.end, options), records, bytes };
  }

  /** Appends a record; resolves with where its data is once it is written (and synced, with `fsync`). */
  append(header: H, data: AppendData): Promise<DataLocation> {
    if (this.#closed) return Promise.reject(new Error(`object log ${this.dir} is closed`));
    const written = this.#appending.then(() => this.#write(header, data));
    this.#appending = written.catch(() => {});
    return written.then(async ({ at, seq }) => {
      if (this.#options.fsync) await this.#durable(seq);
      return at;
    });
  }

  /** Bytes `start`..`end` (inclusive) of a record's data, read at once. */
  async read(at: DataLocation, start: number, end: number): Promise<Buffer> {
    const length = end - start + 1;
    const buffer = Buffer.allocUnsafe(length);
    const handle = await this.#reader(at.segment);
    let got = 0;
    while (got < length) {
      // Small reads are page-cache hits: done in place, as small writes are.
      const bytesRead = length <= SYNC_WRITE_BYTES ? readSync(handle.fd, buffer, got, length - got, at.offset + start + got) : (await handle.read(buffer, got, length - got, at.offset + start + got)).bytesRead;
      if (bytesRead === 0) throw new Error(`segment ${at.segment} of ${this.dir} ends inside a committed record`);
      got += bytesRead;
    }
    return buffer;
  }

  /** Bytes `start`..`end` (inclusive) of a record's data as a stream, for bodies too big to hold. */
  stream(at: DataLocation, start: number, end: number): Readable {
    return createReadStream(path.join(this.dir, segmentName(at.segment)), { start: at.offset + start, end: at.offset + end, highWaterMark: CHUNK_BYTES });
  }

  /** Waits for appends in flight, then closes the files. Later appends are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#appending;
    await this.#syncing?.catch(() => {});
    await this.#writer.close().catch(() => {});
    for (const reader of this.#readers.values()) await (await reader.catch(() => undefined))?.close().catch(() => {});
    this.#readers.clear();
  }

  async #write(header: H, data: AppendData): Promise<{ at: DataLocation; seq: number }> {
    if (this.#end >= (this.#options.segmentBytes ?? SEGMENT_BYTES)) await this.#nextSegment();
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const length = 'buffers' in data ? data.buffers.reduce((n, b) => n + b.length, 0) : data.length;
    const head = Buffer.allocUnsafe(HEAD_BYTES + json.length);
    head.writeUInt32LE(HEAD_MAGIC, 0);
    head.writeUInt32LE(json.length, 4);
    head.writeUIntLE(length, 8, 6);
    head.writeUInt16LE(0, 14);
    json.copy(head, HEAD_BYTES);
    const start = this.#end;
    const at: DataLocation = { segment: this.#segment, offset: start + head.length, length };
    let dataCrc = 0;
    if ('buffers' in data) {
      for (const b of data.buffers) dataCrc = crc32(b, dataCrc);
      const frame = [head, ...data.buffers, tail(head, dataCrc)];
      // A small record goes to the page cache in microseconds; the thread pool's round trip costs more than the write.
      if (length <= SYNC_WRITE_BYTES) writeFullySync(this.#writer.fd, frame, start);
      else await writeFully(this.#writer, frame, start);
    } else {
      await writeFully(this.#writer, [head], start);
      const source = await open(data.file, 'r');
      try {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(1, length)));
        for (let copied = 0; copied < length; ) {
          const { bytesRead } = await source.read(chunk, 0, Math.min(chunk.length, length - copied), (data.offset ?? 0) + copied);
          if (bytesRead === 0) throw new Error(`${data.file} ends before the ${length} bytes to append`);
          const piece = chunk.subarray(0, bytesRead);
          dataCrc = crc32(piece, dataCrc);
          await writeFully(this.#writer, [piece], at.offset + copied);
          copied += bytesRead;
        }
      } finally {
        await source.close();
      }
      await writeFully(this.#writer, [tail(head, dataCrc)], at.offset + length);
    }
    this.#end = at.offset + length + TAIL_BYTES;
    return { at, seq: ++this.#written };
  }

  async #nextSegment(): Promise<void> {
    // Appends already written to the old segment are synced with it before it stops being the one a sync covers.
    if (this.#options.fsync) await this.#writer.datasync();
    const next = this.#segment + 1;
    const writer = await open(path.join(this.dir, segmentName(next)), 'w+');
    if (this.#options.fsync) await syncDirectory(this.dir);
    // The old writer stays open as the old segment's reader: reads in flight on it carry on.
    this.#readers.set(this.#segment, Promise.resolve(this.#writer));
    this.#writer = writer;
    this.#segment = next;
    this.#end = 0;
    this.#synced = this.#written;
  }

  /** Resolves once a sync that started after append `seq` was written has finished. */
  async #durable(seq: number): Promise<void> {
    while (this.#synced < seq) {
      if (this.#syncing) {
        await this.#syncing;
        continue;
      }
      const upTo = this.#written;
      this.#syncing = this.#writer.datasync().then(
        () => {
          this.#synced = Math.max(this.#synced, upTo);
        },
      );
      try {
        await this.#syncing;
      } finally {
        this.#syncing = undefined;
      }
    }
  }

  #reader(segment: number): Promise<FileHandle> {
    if (segment === this.#segment) return Promise.resolve(this.#writer);
    let reader = this.#readers.get(segment);
    if (!reader) {
      reader = open(path.join(this.dir, segmentName(segment)), 'r');
      this.#readers.set(segment, reader);
      reader.catch(() => this.#readers.delete(segment));
    }
    return reader;
  }
}

function tail(head: Buffer, dataCrc: number): Buffer {
  const t = Buffer.allocUnsafe(TAIL_BYTES);
  t.writeUInt32LE(crc32(head), 0);
  t.writeUInt32LE(dataCrc, 4);
  t.writeUInt32LE(TAIL_MAGIC, 8);
  return t;
}

/** Reads a segment's whole records; cuts the file after the last one if anything follows it. */
async function scanSegment<H>(file: string, segment: number, log: (line: string) => void): Promise<{ found: LogRecord<H>[]; end: number }> {
  const handle = await open(file, 'r+');
  try {
    const size = (await handle.stat()).size;
    const reader = new WindowReader(handle, size);
    const found: LogRecord<H>[] = [];
    let pos = 0;
    let problem: string | undefined;
    while (pos < size) {
      const record = await readRecord<H>(reader, pos, segment);
      if (typeof record === 'string') {
        problem = record;
        break;
      }
      found.push(record.record);
      pos = record.next;
    }
    if (problem !== undefined) {
      log(`[oss] ${file}: cut ${size - pos} byte(s) after the last whole record (${problem}): an append interrupted by a crash`);
      await handle.truncate(pos);
    }
    return { found, end: pos };
  } finally {
    await handle.close();
  }
}

async function readRecord<H>(reader: WindowReader, pos: number, segment: number): Promise<{ record: LogRecord<H>; next: number } | string> {
  const fixed = await reader.bytes(pos, HEAD_BYTES);
  if (!fixed) return 'incomplete frame head';
  if (fixed.readUInt32LE(0) !== HEAD_MAGIC) return 'no record magic';
  const jsonLength = fixed.readUInt32LE(4);
  const dataLength = fixed.readUIntLE(8, 6);
  const head = await reader.bytes(pos, HEAD_BYTES + jsonLength);
  if (!head) return 'incomplete header';
  const dataAt = pos + head.length;
  const end = dataAt + dataLength + TAIL_BYTES;
  const trailer = await reader.bytes(dataAt + dataLength, TAIL_BYTES);
  if (!trailer) return 'incomplete record';
  if (trailer.readUInt32LE(8) !== TAIL_MAGIC || trailer.readUInt32LE(0) !== crc32(head)) return 'damaged header';
  let dataCrc = 0;
  for (let off = 0; off < dataLength; off += CHUNK_BYTES) dataCrc = crc32((await reader.bytes(dataAt + off, Math.min(CHUNK_BYTES, dataLength - off)))!, dataCrc);
  if (dataCrc !== trailer.readUInt32LE(4)) return 'damaged data';
  let header: H;
  try {
    header = JSON.parse(head.subarray(HEAD_BYTES).toString('utf8')) as H;
  } catch {
    return 'unreadable header';
  }
  return { record: { header, at: { segment, offset: dataAt, length: dataLength }, frameBytes: end - pos }, next: end };
}

/** Reads a file front to back through one buffer, so a segment of small records costs a few reads. */
class WindowReader {
  #start = 0;
  #window = Buffer.alloc(0);
  constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
  ) {}

  /** `length` bytes from `pos`, or undefined if the file ends first. */
  async bytes(pos: number, length: number): Promise<Buffer | undefined> {
    if (pos + length > this.size) return undefined;
    if (pos >= this.#start && pos + length <= this.#start + this.#window.length) return this.#window.subarray(pos - this.#start, pos - this.#start + length);
    const want = Math.min(Math.max(length, CHUNK_BYTES), this.size - pos);
    const buffer = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(buffer, got, want - got, pos + got);
      if (bytesRead === 0) return undefined;
      got += bytesRead;
    }
    this.#start = pos;
    this.#window = buffer;
    return buffer.subarray(0, length);
  }
}

/**
 * Replaces the log in `dir` by one holding only `records` (read from the old log), for a log that is
 * mostly replaced or deleted objects. The new log is written beside it and swapped in with two
 * renames; {@link recoverCompaction} finishes or undoes a swap a crash interrupted.
 */
export async function compactLog<H extends object>(dir: string, live: LogRecord<H>[], options: ObjectLogOptions): Promise<LogRecord<H>[]> {
  const next = `${dir}.next`;
  await rm(next, { recursive: true, force: true });
  const { log: fresh } = await ObjectLog.open<H>(next, { ...options, fsync: false });
  const out: LogRecord<H>[] = [];
  const sources = new Map<number, FileHandle>();
  try {
    for (const r of live) {
      let source = sources.get(r.at.segment);
      if (!source) {
        source = await open(path.join(dir, segmentName(r.at.segment)), 'r');
        sources.set(r.at.segment, source);
      }
      // Small records are copied through memory, big ones straight from segment to segment a chunk at a time.
      if (r.at.length <= CHUNK_BYTES) {
        const data = Buffer.allocUnsafe(r.at.length);
        if (r.at.length > 0) await source.read(data, 0, r.at.length, r.at.offset);
        out.push({ header: r.header, at: await fresh.append(r.header, { buffers: [data] }) });
      } else {
        out.push({ header: r.header, at: await fresh.append(r.header, { file: path.join(dir, segmentName(r.at.segment)), offset: r.at.offset, length: r.at.length }) });
      }
    }
    await fresh.close();
  } finally {
    for (const s of sources.values()) await s.close();
  }
  for (const f of await readdir(next)) {
    const fh = await open(path.join(next, f), 'r+');
    await fh.sync().finally(() => fh.close());
  }
  await rename(dir, `${dir}.old`);
  await rename(next, dir);
  await syncDirectory(path.dirname(dir));
  await rm(`${dir}.old`, { recursive: true, force: true });
  return out;
}

/** Finishes or undoes a compaction a crash interrupted: see {@link compactLog}. */
export async function recoverCompaction(dir: string): Promise<void> {
  const exists = (p: string) => stat(p).then(() => true, () => false);
  if (await exists(`${dir}.old`)) {
    // Crashed between the two renames (the new log is complete), or after them (only the old remains to go).
    if (!(await exists(dir))) await rename(`${dir}.next`, dir);
    await rm(`${dir}.old`, { recursive: true, force: true });
  }
  await rm(`${dir}.next`, { recursive: true, force: true });
}
