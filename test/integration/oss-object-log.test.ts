/**
 * The local OSS store's append-only object log (local/oss/object-log.ts) through `DiskObjectStore`,
 * on real files: torn and damaged records at the end of a segment, segment rollover, compaction at
 * open and its crash recovery, readers pinned to a version, large spooled uploads, concurrent synced
 * appends, and the import of the earlier sidecar layout.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OssError } from '../../local/oss/errors.ts';
import { DiskObjectStore, type ObjectRecord, type StoreOptions } from '../../local/oss/store.ts';

const BUCKET = 'log-bucket';
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const HEAD_BYTES = 16;
const TAIL_BYTES = 12;

let root: string;
const opened = new Set<DiskObjectStore>();

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'oss-object-log-'));
});
afterEach(async () => {
  for (const s of opened) await s.close().catch(() => {});
  opened.clear();
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** A new empty data folder inside the test's temporary folder. */
async function freshDir(name: string): Promise<string> {
  return mkdtemp(path.join(root, `${name}-`));
}

/** Opens a store (without fsync unless asked) that collects its log lines. */
async function openStore(dataDir: string, options: Omit<StoreOptions, 'log'> = {}): Promise<{ store: DiskObjectStore; lines: string[] }> {
  const lines: string[] = [];
  const store = await DiskObjectStore.open(dataDir, { fsync: false, ...options, log: (line) => lines.push(line) });
  opened.add(store);
  return { store, lines };
}

async function closeStore(store: DiskObjectStore): Promise<void> {
  await store.close();
  opened.delete(store);
}

const logDir = (dataDir: string): string => path.join(dataDir, BUCKET, 'log');

/** The bucket's segment files, in order. */
async function segments(dataDir: string): Promise<string[]> {
  return (await readdir(logDir(dataDir))).filter((f) => f.endsWith('.seg')).sort();
}

async function segmentBytes(dataDir: string): Promise<number> {
  let total = 0;
  for (const f of await segments(dataDir)) total += (await stat(path.join(logDir(dataDir), f))).size;
  return total;
}

async function snapshotSegments(dataDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await segments(dataDir)) out.set(f, md5(await readFile(path.join(logDir(dataDir), f))));
  return out;
}

/** One record's place in a segment, found from the framing alone. */
interface Frame {
  start: number;
  /** First byte of the JSON header. */
  headerStart: number;
  dataStart: number;
  dataLength: number;
  /** One past the record's last byte. */
  end: number;
  header: Record<string, unknown>;
}

/** Walks a segment's records: 'OSL1' u32 headerLen u48 dataLen u16 0, header, data, u32, u32, 'OSLE'. */
function frames(segment: Buffer): Frame[] {
  const out: Frame[] = [];
  let pos = 0;
  while (pos < segment.length) {
    expect(segment.toString('latin1', pos, pos + 4)).toBe('OSL1');
    const headerLength = segment.readUInt32LE(pos + 4);
    const dataLength = segment.readUIntLE(pos + 8, 6);
    expect(segment.readUInt16LE(pos + 14)).toBe(0);
    const headerStart = pos + HEAD_BYTES;
    const dataStart = headerStart + headerLength;
    const end = dataStart + dataLength + TAIL_BYTES;
    expect(segment.toString('latin1', end - 4, end)).toBe('OSLE');
    const header = JSON.parse(segment.toString('utf8', headerStart, dataStart)) as Record<string, unknown>;
    out.push({ start: pos, headerStart, dataStart, dataLength, end, header });
    pos = end;
  }
  expect(pos).toBe(segment.length);
  return out;
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** Keys in the order OSS lists them: by their UTF-8 bytes. */
const utf8Order = (keys: Iterable<string>): string[] => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

describe('DiskObjectStore on the object log', () => {
  /** Three objects written by the store, and the segment bytes they left. */
  async function threeObjects(): Promise<{ segment: Buffer; bodies: Buffer[]; frames: Frame[] }> {
    const dir = await freshDir('three');
    const { store } = await openStore(dir);
    await store.createBucket(BUCKET);
    const bodies = [Buffer.from('first object body'), Buffer.from('second object, a bit longer'), Buffer.from('third object: the one torn')];
    for (const [i, body] of bodies.entries()) await store.put(BUCKET, `obj-${i + 1}`, body, { contentType: 'text/plain', meta: { n: String(i + 1) } });
    await closeStore(store);
    const [only, ...more] = await segments(dir);
    expect(more).toEqual([]);
    const segment = await readFile(path.join(logDir(dir), only!));
    const found = frames(segment);
    expect(found.map((f) => f.header.key)).toEqual(['obj-1', 'obj-2', 'obj-3']);
    await rm(dir, { recursive: true, force: true });
    return { segment, bodies, frames: found };
  }

  /** A data folder whose bucket log is exactly `segment`. */
  async function folderWith(name: string, segment: Buffer): Promise<{ dir: string; file: string }> {
    const dir = await freshDir(name);
    await mkdir(logDir(dir), { recursive: true });
    const file = path.join(logDir(dir), '00000001.seg');
    await writeFile(file, segment);
    return { dir, file };
  }

  it('a last record torn at every byte offset is cut off; the records before it stay, and later appends survive', async () => {
    const { segment, bodies, frames: f } = await threeObjects();
    const end2 = f[1]!.end;
    const recordLength = f[2]!.end - end2;
    expect(recordLength).toBeGreaterThan(HEAD_BYTES + TAIL_BYTES);

    async function tornAt(cut: number): Promise<void> {
      const { dir, file } = await folderWith(`cut-${cut}`, segment.subarray(0, end2 + cut));
      const { store, lines } = await openStore(dir);
      const where = `cut ${cut} of ${recordLength}`;
      expect(await store.read(BUCKET, 'obj-1'), where).toEqual(bodies[0]);
      expect(await store.read(BUCKET, 'obj-2'), where).toEqual(bodies[1]);
      expect(await store.read(BUCKET, 'obj-3'), where).toBeUndefined();
      expect(store.head(BUCKET, 'obj-3'), where).toBeUndefined();
      expect(store.list(BUCKET), where).toEqual(['obj-1', 'obj-2']);
      expect((await stat(file)).size, where).toBe(end2);
      expect(
        lines.some((l) => l.includes(`cut ${cut} byte(s) after the last whole record`)),
        `${where}: ${lines.join(' | ')}`,
      ).toBe(true);

      const after = Buffer.from(`written after the cut at ${cut}`);
      await store.put(BUCKET, 'after', after, { contentType: 'text/plain' });
      await closeStore(store);

      const again = await openStore(dir);
      expect(await again.store.read(BUCKET, 'after'), where).toEqual(after);
      expect(await again.store.read(BUCKET, 'obj-1'), where).toEqual(bodies[0]);
      expect(await again.store.read(BUCKET, 'obj-2'), where).toEqual(bodies[1]);
      expect(again.store.list(BUCKET), where).toEqual(['after', 'obj-1', 'obj-2']);
      expect(again.lines.filter((l) => l.includes('cut')), where).toEqual([]);
      await closeStore(again.store);
      await rm(dir, { recursive: true, force: true });
    }

    // Every cut length, a few folders at a time.
    const cuts = Array.from({ length: recordLength - 1 }, (_, i) => i + 1);
    const workers = Array.from({ length: 8 }, async () => {
      for (let cut = cuts.shift(); cut !== undefined; cut = cuts.shift()) await tornAt(cut);
    });
    await Promise.all(workers);
  });

  it('a damaged byte in the last record drops it: "damaged data" in its data, "damaged header" in its JSON header', async () => {
    const { segment, bodies, frames: f } = await threeObjects();
    const last = f[2]!;
    const cases: { name: string; at: number; reason: string }[] = [
      { name: 'data', at: last.dataStart + Math.floor(last.dataLength / 2), reason: 'damaged data' },
      { name: 'json', at: last.headerStart + 10, reason: 'damaged header' },
      // The frame's CRCs and end magic, for good measure.
      { name: 'header-crc', at: last.end - TAIL_BYTES, reason: 'damaged header' },
      { name: 'data-crc', at: last.end - TAIL_BYTES + 4, reason: 'damaged data' },
      { name: 'end-magic', at: last.end - 1, reason: 'damaged header' },
    ];
    for (const c of cases) {
      const damaged = Buffer.from(segment);
      damaged[c.at]! ^= 0x20;
      const { dir, file } = await folderWith(`flip-${c.name}`, damaged);
      const { store, lines } = await openStore(dir);
      expect(await store.read(BUCKET, 'obj-1'), c.name).toEqual(bodies[0]);
      expect(await store.read(BUCKET, 'obj-2'), c.name).toEqual(bodies[1]);
      expect(store.head(BUCKET, 'obj-3'), c.name).toBeUndefined();
      expect((await stat(file)).size, c.name).toBe(f[1]!.end);
      const cutLines = lines.filter((l) => l.includes('cut'));
      expect(cutLines, c.name).toHaveLength(1);
      expect(cutLines[0], c.name).toContain(`cut ${last.end - last.start} byte(s) after the last whole record (${c.reason})`);
      await closeStore(store);
    }
  });

  it('rolls over to new segments; after a reopen live objects, overwrites, deletes and listing order are right', async () => {
    const dir = await freshDir('rollover');
    const options = { segmentBytes: 4096 };
    const { store } = await openStore(dir, options);
    await store.createBucket(BUCKET);
    // Keys whose UTF-16 and UTF-8 orders differ, names that are prefixes of others, a trailing '/'.
    const special = ['a', 'a/', 'a/b', 'B', 'é', '中文', '😀', '\uff5e', 'x y', '..'];
    const keys = [...Array.from({ length: 90 }, (_, i) => `obj/${String(i).padStart(3, '0')}`), ...special];
    expect(keys).toHaveLength(100);
    const expected = new Map<string, { body: Buffer; record: ObjectRecord }>();
    for (const [i, key] of keys.entries()) {
      const body = randomBytes(450 + (i % 100));
      const record = await store.put(BUCKET, key, body, { contentType: 'application/octet-stream', meta: { i: String(i) } });
      expected.set(key, { body, record });
    }
    // Overwrite every 7th, delete every 5th (some of them overwritten first).
    const deleted = new Set<string>();
    for (const [i, key] of keys.entries()) {
      if (i % 7 === 0) {
        const body = randomBytes(500);
        const record = await store.put(BUCKET, key, body, { contentType: 'text/plain', meta: { i: String(i), v: '2' } });
        expected.set(key, { body, record });
      }
    }
    for (const [i, key] of keys.entries()) {
      if (i % 5 === 0) {
        expect(await store.delete(BUCKET, key)).toBe(true);
        expected.delete(key);
        deleted.add(key);
      }
    }
    expect(await store.delete(BUCKET, keys[0]!)).toBe(false);
    const listing = utf8Order(expected.keys());
    expect(store.list(BUCKET)).toEqual(listing);
    await closeStore(store);

    const segs = await segments(dir);
    expect(segs.length).toBeGreaterThan(5);
    expect(segs[0]).toBe('00000001.seg');
    for (const [i, s] of segs.entries()) {
      expect(s).toBe(`${String(i + 1).padStart(8, '0')}.seg`);
      const size = (await stat(path.join(logDir(dir), s))).size;
      // A segment is closed once it passes the limit: every one but the last got there, none grew by more than one record.
      if (i < segs.length - 1) expect(size).toBeGreaterThanOrEqual(4096);
      expect(size).toBeLessThan(4096 + 2048);
    }

    const { store: reopened, lines } = await openStore(dir, options);
    expect(lines).toEqual([]);
    for (const [key, { body, record }] of expected) {
      expect(await reopened.read(BUCKET, key), key).toEqual(body);
      expect(reopened.head(BUCKET, key), key).toEqual(record);
    }
    for (const key of deleted) {
      expect(await reopened.read(BUCKET, key), key).toBeUndefined();
      expect(reopened.head(BUCKET, key), key).toBeUndefined();
    }
    expect(reopened.list(BUCKET)).toEqual(listing);
    expect(reopened.list(BUCKET, 'a')).toEqual(listing.filter((k) => k.startsWith('a')));
    expect(reopened.list(BUCKET, 'a')).toEqual(expect.arrayContaining(['a/', 'a/b']));
    expect(reopened.list(BUCKET, 'obj/00')).toEqual(listing.filter((k) => k.startsWith('obj/00')));

    // Appends after a reopen go on at the end of the last segment, not over anything.
    const late = randomBytes(700);
    await reopened.put(BUCKET, 'late', late, { contentType: 'text/plain' });
    await closeStore(reopened);
    const { store: third } = await openStore(dir, options);
    expect(await third.read(BUCKET, 'late')).toEqual(late);
    for (const [key, { body }] of expected) expect(await third.read(BUCKET, key), key).toEqual(body);
    expect(third.list(BUCKET)).toEqual(utf8Order([...expected.keys(), 'late']));
    await closeStore(third);
  });

  /** A bucket of a few objects each overwritten many times (and one deleted): a log that is mostly dead. */
  async function mostlyDead(dir: string, options: Omit<StoreOptions, 'log'>): Promise<Map<string, { body: Buffer; record: ObjectRecord }>> {
    const { store } = await openStore(dir, options);
    await store.createBucket(BUCKET);
    const latest = new Map<string, { body: Buffer; record: ObjectRecord }>();
    for (let round = 0; round < 25; round++) {
      for (let i = 0; i < 8; i++) {
        const key = `doc/${i}`;
        const body = randomBytes(300 + i);
        const record = await store.put(BUCKET, key, body, {
          contentType: i % 2 ? 'application/json' : 'text/html',
          meta: { round: String(round), owner: `user-${i}` },
          headers: { 'Cache-Control': `max-age=${round}` },
        });
        latest.set(key, { body, record });
      }
    }
    await store.put(BUCKET, 'gone', Buffer.from('deleted before the compaction'), { contentType: 'text/plain' });
    await store.delete(BUCKET, 'gone');
    await closeStore(store);
    return latest;
  }

  it('compacts a mostly dead log at open; objects and their records are intact, and the next open changes nothing', async () => {
    const dir = await freshDir('compact');
    const options = { compactAfterBytes: 10_000, segmentBytes: 4096 };
    const latest = await mostlyDead(dir, options);
    const before = await segmentBytes(dir);
    expect(before).toBeGreaterThan(10_000);

    const { store, lines } = await openStore(dir, options);
    expect(lines.filter((l) => l.includes('compacted'))).toHaveLength(1);
    const after = await segmentBytes(dir);
    expect(after).toBeLessThan(before / 2);
    expect(await readdir(path.join(dir, BUCKET))).toEqual(expect.not.arrayContaining(['log.next', 'log.old']));
    for (const [key, { body, record }] of latest) {
      expect(await store.read(BUCKET, key), key).toEqual(body);
      expect(store.head(BUCKET, key), key).toEqual(record);
    }
    expect(store.head(BUCKET, 'gone')).toBeUndefined();
    expect(store.list(BUCKET)).toEqual(utf8Order(latest.keys()));
    await closeStore(store);

    const snapshot = await snapshotSegments(dir);
    const again = await openStore(dir, options);
    expect(again.lines).toEqual([]);
    expect(await snapshotSegments(dir)).toEqual(snapshot);
    for (const [key, { body, record }] of latest) {
      expect(await again.store.read(BUCKET, key), key).toEqual(body);
      expect(again.store.head(BUCKET, key), key).toEqual(record);
    }
    expect(again.store.head(BUCKET, 'gone')).toBeUndefined();
    await closeStore(again.store);
  });

  it('a log with no dead records at all is not compacted at open (small objects whose headers outweigh their data)', async () => {
    // Documented: "compacted at start when it is bigger than this and more than half of it is dead records".
    const dir = await freshDir('all-live');
    const options = { compactAfterBytes: 10_000 };
    const { store } = await openStore(dir, options);
    await store.createBucket(BUCKET);
    for (let i = 0; i < 60; i++) await store.put(BUCKET, `small/${i}`, randomBytes(50), { contentType: 'text/plain' });
    await closeStore(store);
    expect(await segmentBytes(dir)).toBeGreaterThan(10_000);
    const snapshot = await snapshotSegments(dir);

    const { store: reopened, lines } = await openStore(dir, options);
    expect(lines.filter((l) => l.includes('compacted'))).toEqual([]);
    expect(await snapshotSegments(dir)).toEqual(snapshot);
    expect(reopened.list(BUCKET)).toHaveLength(60);
    await closeStore(reopened);
  });

  it('compaction copies an object bigger than its copy buffer straight from segment to segment, byte for byte', async () => {
    const dir = await freshDir('compact-big');
    const options = { compactAfterBytes: 1000 };
    const { store } = await openStore(dir, options);
    await store.createBucket(BUCKET);
    let newest = Buffer.alloc(0);
    for (let i = 0; i < 4; i++) {
      newest = randomBytes(2 * 1024 * 1024 + 7);
      await store.put(BUCKET, 'big', newest, { contentType: 'application/octet-stream' });
    }
    await store.put(BUCKET, 'small', Buffer.from('small one'), { contentType: 'text/plain' });
    await closeStore(store);

    const { store: reopened, lines } = await openStore(dir, options);
    expect(lines.filter((l) => l.includes('compacted'))).toHaveLength(1);
    expect(await segmentBytes(dir)).toBeLessThan(newest.length + 4096);
    expect(md5((await reopened.read(BUCKET, 'big'))!)).toBe(md5(newest));
    expect((await reopened.read(BUCKET, 'small'))!.toString()).toBe('small one');
    await closeStore(reopened);
  });

  it('recovers a compaction a crash interrupted: between the two renames, before the swap, and after it', async () => {
    // A real compaction: keep the log from before it and the log it produced.
    const source = await freshDir('recover-source');
    const latest = await mostlyDead(source, {});
    const savedOld = path.join(root, `saved-old-${path.basename(source)}`);
    const savedNew = path.join(root, `saved-new-${path.basename(source)}`);
    await cp(logDir(source), savedOld, { recursive: true });
    const oldBytes = await segmentBytes(source);
    const { store: compacting, lines: compactLines } = await openStore(source, { compactAfterBytes: 10_000 });
    expect(compactLines.some((l) => l.includes('compacted'))).toBe(true);
    await closeStore(compacting);
    await cp(logDir(source), savedNew, { recursive: true });
    const newBytes = await segmentBytes(source);
    expect(newBytes).toBeLessThan(oldBytes / 2);

    async function expectObjects(dir: string, label: string): Promise<string[]> {
      const { store, lines } = await openStore(dir);
      for (const [key, { body, record }] of latest) {
        expect(await store.read(BUCKET, key), `${label}: ${key}`).toEqual(body);
        expect(store.head(BUCKET, key), `${label}: ${key}`).toEqual(record);
      }
      expect(store.head(BUCKET, 'gone'), label).toBeUndefined();
      expect(store.list(BUCKET), label).toEqual(utf8Order(latest.keys()));
      await closeStore(store);
      const left = await readdir(path.join(dir, BUCKET));
      expect(left, label).not.toContain('log.next');
      expect(left, label).not.toContain('log.old');
      expect(left, label).toContain('log');
      return lines;
    }

    // Crashed between the renames: log → log.old done, log.next → log not yet.
    const between = await freshDir('recover-between');
    await mkdir(path.join(between, BUCKET), { recursive: true });
    await cp(savedOld, `${logDir(between)}.old`, { recursive: true });
    await cp(savedNew, `${logDir(between)}.next`, { recursive: true });
    const betweenLines = await expectObjects(between, 'between the renames');
    expect(betweenLines.filter((l) => l.includes('compacted')), 'between the renames').toEqual([]);
    // The compacted log was the one moved into place.
    expect(await segmentBytes(between)).toBe(newBytes);

    // Crashed before the swap: the old log intact, log.next half written (a torn segment and a spool file).
    const before = await freshDir('recover-before');
    await mkdir(path.join(before, BUCKET), { recursive: true });
    await cp(savedOld, logDir(before), { recursive: true });
    await cp(savedNew, `${logDir(before)}.next`, { recursive: true });
    const nextSegs = (await readdir(`${logDir(before)}.next`)).filter((f) => f.endsWith('.seg')).sort();
    await truncate(path.join(`${logDir(before)}.next`, nextSegs.at(-1)!), 100);
    await writeFile(path.join(`${logDir(before)}.next`, 'copy.tmp'), randomBytes(1000));
    const oldSnapshot = await snapshotSegments(before);
    await expectObjects(before, 'before the swap');
    expect(await snapshotSegments(before)).toEqual(oldSnapshot);
    expect(await segmentBytes(before)).toBe(oldBytes);

    // Crashed after both renames, before log.old was removed.
    const afterSwap = await freshDir('recover-after');
    await mkdir(path.join(afterSwap, BUCKET), { recursive: true });
    await cp(savedOld, `${logDir(afterSwap)}.old`, { recursive: true });
    await cp(savedNew, logDir(afterSwap), { recursive: true });
    await expectObjects(afterSwap, 'after the swap');
    expect(await segmentBytes(afterSwap)).toBe(newBytes);
  });

  it('a reader opened before an overwrite and a delete keeps reading the version it opened', async () => {
    const dir = await freshDir('pinned');
    // Tiny segments: every record rolls over, so the old version is read from a closed segment.
    const { store } = await openStore(dir, { segmentBytes: 1024 });
    await store.createBucket(BUCKET);
    const v1 = randomBytes(3000);
    const r1 = await store.put(BUCKET, 'pinned', v1, { contentType: 'text/plain', meta: { v: '1' } });
    const reader = await store.openObject(BUCKET, 'pinned');
    expect(reader).toBeDefined();
    expect(reader!.record).toEqual(r1);

    const v2 = randomBytes(2000);
    await store.put(BUCKET, 'pinned', v2, { contentType: 'text/plain', meta: { v: '2' } });
    expect(await store.read(BUCKET, 'pinned')).toEqual(v2);
    expect(await reader!.bytes(0, v1.length - 1)).toEqual(v1);
    expect(await collect(reader!.stream(0, v1.length - 1))).toEqual(v1);

    expect(await store.delete(BUCKET, 'pinned')).toBe(true);
    expect(await store.openObject(BUCKET, 'pinned')).toBeUndefined();
    for (let i = 0; i < 5; i++) await store.put(BUCKET, `filler-${i}`, randomBytes(1500), { contentType: 'text/plain' });
    expect(await reader!.bytes(0, v1.length - 1)).toEqual(v1);
    expect(await reader!.bytes(100, 199)).toEqual(v1.subarray(100, 200));
    expect(await collect(reader!.stream(0, v1.length - 1))).toEqual(v1);
    expect(await collect(reader!.stream(2990, 2999))).toEqual(v1.subarray(2990));
    expect(reader!.record).toEqual(r1);
    expect((await segments(dir)).length).toBeGreaterThan(3);
    await closeStore(store);
  });

  it('spools a large streamed body through tmp/, reads it back exactly, and leaves tmp/ empty; over maxBytes it is EntityTooLarge', async () => {
    const dir = await freshDir('large');
    const { store } = await openStore(dir);
    await store.createBucket(BUCKET);
    const tmp = path.join(dir, BUCKET, 'tmp');
    const body = randomBytes(3 * 1024 * 1024);
    const CHUNK = 64 * 1024;
    let seenInTmp: string[] = [];
    let consumed = 0;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let off = 0; off < body.length; off += CHUNK) {
        // By the last chunk more than a megabyte has arrived: the upload is spooled.
        if (off + CHUNK >= body.length) seenInTmp = await readdir(tmp);
        yield body.subarray(off, off + CHUNK);
        consumed = off + CHUNK;
      }
    }

    const record = await store.put(BUCKET, 'big.bin', chunks(), { contentType: 'application/octet-stream' });
    expect(seenInTmp).toHaveLength(1);
    expect(seenInTmp[0]).toMatch(/\.upload$/);
    expect(record.size).toBe(body.length);
    expect(record.etag).toBe(md5(body).toUpperCase());
    expect(await readdir(tmp)).toEqual([]);
    const reader = await store.openObject(BUCKET, 'big.bin');
    const hash = createHash('md5');
    let streamed = 0;
    for await (const c of reader!.stream(0, body.length - 1)) {
      hash.update(c as Buffer);
      streamed += (c as Buffer).length;
    }
    expect(streamed).toBe(body.length);
    expect(hash.digest('hex')).toBe(md5(body));
    expect(md5(await reader!.bytes(1024 * 1024 - 10, 2 * 1024 * 1024 + 10))).toBe(md5(body.subarray(1024 * 1024 - 10, 2 * 1024 * 1024 + 11)));

    // Too large: rejected, the rest of the body still read, nothing left behind, nothing stored.
    consumed = 0;
    const error = await store.put(BUCKET, 'too-big.bin', chunks(), { contentType: 'application/octet-stream', maxBytes: 2 * 1024 * 1024 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OssError);
    expect((error as OssError).code).toBe('EntityTooLarge');
    expect(consumed).toBe(body.length);
    expect(await readdir(tmp)).toEqual([]);
    expect(store.head(BUCKET, 'too-big.bin')).toBeUndefined();
    expect(await store.read(BUCKET, 'too-big.bin')).toBeUndefined();
    // A failed replacement leaves the existing version.
    const tooBigOver = await store.put(BUCKET, 'big.bin', chunks(), { contentType: 'text/plain', maxBytes: 1024 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((tooBigOver as OssError).code).toBe('EntityTooLarge');
    expect(store.head(BUCKET, 'big.bin')).toEqual(record);
    expect(await readdir(tmp)).toEqual([]);
    await closeStore(store);

    const { store: reopened } = await openStore(dir);
    expect(md5((await reopened.read(BUCKET, 'big.bin'))!)).toBe(md5(body));
    expect(reopened.list(BUCKET)).toEqual(['big.bin']);
    await closeStore(reopened);
  });

  it('with fsync, 200 concurrent small puts all resolve and are all there after a reopen', async () => {
    const dir = await freshDir('fsync');
    const { store } = await openStore(dir, { fsync: true });
    await store.createBucket(BUCKET);
    const bodies = Array.from({ length: 200 }, (_, i) => Buffer.from(`body ${i} ${randomBytes(8).toString('hex')}`));
    const records = await Promise.all(bodies.map((b, i) => store.put(BUCKET, `c/${String(i).padStart(3, '0')}`, b, { contentType: 'text/plain' })));
    expect(records).toHaveLength(200);
    await closeStore(store);

    const { store: reopened, lines } = await openStore(dir, { fsync: true });
    expect(lines).toEqual([]);
    expect(reopened.list(BUCKET)).toHaveLength(200);
    for (const [i, b] of bodies.entries()) {
      const key = `c/${String(i).padStart(3, '0')}`;
      expect(await reopened.read(BUCKET, key), key).toEqual(b);
      expect(reopened.head(BUCKET, key), key).toEqual(records[i]);
    }
    await closeStore(reopened);

    // The same with segments rolling over while synced appends are in flight.
    const rolling = await freshDir('fsync-rolling');
    const { store: small } = await openStore(rolling, { fsync: true, segmentBytes: 2048 });
    await small.createBucket(BUCKET);
    const smallRecords = await Promise.all(bodies.map((b, i) => small.put(BUCKET, `c/${String(i).padStart(3, '0')}`, b, { contentType: 'text/plain' })));
    expect(smallRecords).toHaveLength(200);
    await closeStore(small);
    expect((await segments(rolling)).length).toBeGreaterThan(10);
    const { store: smallAgain, lines: smallLines } = await openStore(rolling, { fsync: true, segmentBytes: 2048 });
    expect(smallLines).toEqual([]);
    expect(smallAgain.list(BUCKET)).toHaveLength(200);
    for (const [i, b] of bodies.entries()) expect(await smallAgain.read(BUCKET, `c/${String(i).padStart(3, '0')}`)).toEqual(b);
    await closeStore(smallAgain);
  });

  it('imports objects stored in the earlier sidecar layout into the log and removes objects/', async () => {
    const dir = await freshDir('sidecar');
    const objectsDir = path.join(dir, BUCKET, 'objects');
    const keys = ['reports/r-1/report.html', 'a/', '中文/文件.txt', 'empty', 'deep/../x'];
    const expected = new Map<string, { body: Buffer; record: ObjectRecord }>();
    for (const [i, key] of keys.entries()) {
      const body = key === 'empty' ? Buffer.alloc(0) : randomBytes(200 + i * 37);
      const h = createHash('sha256').update(key, 'utf8').digest('hex');
      const shard = path.join(objectsDir, h.slice(0, 2));
      await mkdir(shard, { recursive: true });
      const dataFile = `${h}.${randomBytes(4).toString('hex')}.data`;
      const record: ObjectRecord = {
        key,
        size: body.length,
        etag: md5(body).toUpperCase(),
        contentMd5: createHash('md5').update(body).digest('base64'),
        crc64: String(1234567890123 + i),
        lastModified: 1_700_000_000_000 + i * 1000,
        contentType: i % 2 ? 'text/html' : 'application/octet-stream',
        meta: { owner: `u${i}`, 'x-thing': 'Mixed Case Value' },
        headers: i === 0 ? { 'Cache-Control': 'no-cache', 'Content-Disposition': 'attachment; filename="r.html"' } : {},
      };
      await writeFile(path.join(shard, dataFile), body);
      await writeFile(path.join(shard, `${h}.json`), JSON.stringify({ v: 1, ...record, dataFile }));
      expected.set(key, { body, record });
    }
    // A data file no sidecar names (an interrupted PUT of the old store) is not an object.
    const orphanShard = path.join(objectsDir, 'ff');
    await mkdir(orphanShard, { recursive: true });
    await writeFile(path.join(orphanShard, `${'f'.repeat(64)}.deadbeef.data`), randomBytes(64));

    const { store, lines } = await openStore(dir);
    expect(lines.filter((l) => l.includes(`moved ${keys.length} object(s)`))).toHaveLength(1);
    expect(await stat(objectsDir).then(() => true, () => false)).toBe(false);
    for (const [key, { body, record }] of expected) {
      expect(await store.read(BUCKET, key), key).toEqual(body);
      expect(store.head(BUCKET, key), key).toEqual(record);
    }
    expect(store.list(BUCKET)).toEqual(utf8Order(keys));
    await closeStore(store);

    const { store: reopened, lines: again } = await openStore(dir);
    expect(again.filter((l) => l.includes('moved'))).toEqual([]);
    for (const [key, { body, record }] of expected) {
      expect(await reopened.read(BUCKET, key), key).toEqual(body);
      expect(reopened.head(BUCKET, key), key).toEqual(record);
    }
    await closeStore(reopened);
  });
});
