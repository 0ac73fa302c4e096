/**
 * Where the local MNS keeps its queues on disk, and how their messages come back from there.
 *
 * Layout under `dataDir`: `LOCK` (the owning pid), and one folder per queue, `queues/<name>/`, with
 * `meta.json` (attributes, rewritten atomically) and `log.jsonl` (a {@link Journal} of message
 * records). Replaying the log on start restores every accepted message with its dequeue count and
 * invisibility, so a message that was received but not deleted comes back when its visibility
 * timeout ends.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { syncDirectory } from '../file-writes.ts';
import { Journal, readJournal, writeFileDurably } from './journal.ts';
import type { MessageChanges, MessageQueue, StoredMessage } from './messages.ts';
import { isPriority } from './messages.ts';
import { validateQueueAttributes, withDefaults, type QueueAttributes } from './queue-attributes.ts';
import { randomHex } from '../random-hex.ts';

/** What `meta.json` holds. */
export interface QueueMeta {
  v: 1;
  name: string;
  attributes: QueueAttributes;
  createTime: number;
  lastModifyTime: number;
}

/** A queue found on disk at start. */
export interface StoredQueue {
  dir: string;
  meta: QueueMeta;
}

// Records set absolute values, never increments, so replaying one twice changes nothing; the
// journal relies on that when a snapshot already contains a change whose record follows it.
type PutRecord = { op: 'put'; id: string; seq: number; body: string; md5: string; pri: number; enq: number; vis: number; dq: number; fdq: number; rh: string };
type UpdRecord = { op: 'upd'; id: string; vis: number; dq: number; fdq: number; rh: string };
type DelRecord = { op: 'del'; id: string };

const LOCKS_HELD = new Set<string>();
const TRASH_PREFIX = '.deleted-';
/** Compact a log once it is this many times the live message count (and at least MIN_COMPACT lines). */
const COMPACT_FACTOR = 4;
const MIN_COMPACT = 1000;

/** How the journal is written: where failures are reported, and whether each write is synced. */
export interface JournalSettings {
  log: (line: string) => void;
  fsync: boolean;
}

/** A queue's changes as records appended to its journal (rejected while it has none). */
export function journalChanges(journal: () => Journal | undefined, queueName: string): MessageChanges {
  const append = (record: PutRecord | UpdRecord | DelRecord): Promise<void> => {
    const j = journal();
    if (!j) return Promise.reject(new Error(`queue ${queueName} has no journal`));
    return j.append(record);
  };
  return {
    put: (m) => append(putRecord(m)),
    update: (m) => append(updRecord(m)),
    remove: (m) => append({ op: 'del', id: m.id }),
  };
}

/** Opens a queue's journal afresh, written from what `messages` holds, compacted as it grows. */
export function openJournal(dir: string, messages: MessageQueue, settings: JournalSettings): Promise<Journal> {
  return Journal.create(path.join(dir, 'log.jsonl'), {
    snapshot: () => snapshot(messages),
    shouldCompact: (lines) => lines >= MIN_COMPACT && lines > COMPACT_FACTOR * messages.size,
    log: settings.log,
    fsync: settings.fsync,
  });
}

/**
 * Makes a new queue's folder: its journal, then `meta.json` last, so a folder without one is a
 * creation that never completed.
 */
export async function createQueueFolder(queuesDir: string, dir: string, meta: QueueMeta, messages: MessageQueue, settings: JournalSettings): Promise<Journal> {
  // A folder without meta.json is a creation that never completed; it was never acknowledged.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  const journal = await openJournal(dir, messages, settings);
  await writeMeta(dir, meta);
  await syncDirectory(queuesDir);
  return journal;
}

/** Rewrites `meta.json` atomically. */
export function writeMeta(dir: string, meta: QueueMeta): Promise<void> {
  return writeFileDurably(path.join(dir, 'meta.json'), JSON.stringify(meta));
}

/** Removes a queue's folder: renamed away first, so a crash midway leaves no half-deleted queue to recover. */
export async function removeQueueFolder(queuesDir: string, name: string, dir: string): Promise<void> {
  const trash = path.join(queuesDir, `${TRASH_PREFIX}${name}-${randomHex(4)}`);
  await rename(dir, trash);
  await syncDirectory(queuesDir);
  await rm(trash, { recursive: true, force: true });
}

/**
 * The queues in `queuesDir`, clearing away what a crash left: folders of deleted queues, and those
 * of creations that never completed.
 */
export async function* storedQueues(queuesDir: string, log: (line: string) => void): AsyncGenerator<StoredQueue> {
  for (const entry of await readdir(queuesDir, { withFileTypes: true })) {
    const dir = path.join(queuesDir, entry.name);
    if (entry.name.startsWith(TRASH_PREFIX)) {
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    if (!entry.isDirectory()) continue;
    const meta = await readMeta(dir);
    if (!meta) {
      // meta.json is written last and atomically, so its absence means the creation never finished.
      log(`[mns] removing ${dir}: no meta.json (a CreateQueue that never completed)`);
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    yield { dir, meta };
  }
}

/**
 * Replays a queue's journal into `messages`.
 * @returns how many lines were not records this store writes (a torn tail after a crash, or damage)
 */
export async function replayJournal(dir: string, messages: MessageQueue): Promise<number> {
  const { records, badLines } = await readJournal(path.join(dir, 'log.jsonl'));
  let ignored = badLines;
  for (const r of records) if (!replay(messages, r)) ignored++;
  return ignored;
}

/**
 * One store per data directory: two writers appending to the same logs would corrupt them. The lock
 * file holds the owner's pid, so a lock left by a crashed process is recognised as stale.
 * @returns what releases the lock
 */
export async function acquireLock(dataDir: string): Promise<() => Promise<void>> {
  if (LOCKS_HELD.has(dataDir)) throw new Error(`the MNS data directory ${dataDir} is already open in this process`);
  const file = path.join(dataDir, 'LOCK');
  let fh;
  try {
    fh = await open(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
      throw new Error(`the MNS data directory ${dataDir} is in use by process ${owner} (delete ${file} if that is wrong)`);
    }
    fh = await open(file, 'w');
  }
  try {
    await fh.writeFile(String(process.pid));
    await fh.sync();
  } finally {
    await fh.close();
  }
  LOCKS_HELD.add(dataDir);
  return async () => {
    LOCKS_HELD.delete(dataDir);
    await rm(file, { force: true });
  };
}

function* snapshot(messages: MessageQueue): Generator<PutRecord> {
  for (const m of messages.live(Date.now())) yield putRecord(m);
}

function putRecord(m: StoredMessage): PutRecord {
  return {
    op: 'put',
    id: m.id,
    seq: m.seq,
    body: m.body,
    md5: m.md5,
    pri: m.priority,
    enq: m.enqueueTime,
    vis: m.visibleAt,
    dq: m.dequeueCount,
    fdq: m.firstDequeueTime,
    rh: m.receiptHandle,
  };
}

function updRecord(m: StoredMessage): UpdRecord {
  return { op: 'upd', id: m.id, vis: m.visibleAt, dq: m.dequeueCount, fdq: m.firstDequeueTime, rh: m.receiptHandle };
}

/** Applies one log record; false when it is not a record this store writes. */
function replay(messages: MessageQueue, r: unknown): boolean {
  if (typeof r !== 'object' || r === null) return false;
  const rec = r as Record<string, unknown>;
  if (typeof rec.id !== 'string') return false;
  if (rec.op === 'del') {
    const m = messages.get(rec.id);
    if (m) messages.remove(m);
    return true;
  }
  if (!isNum(rec.vis) || !isNum(rec.dq) || !isNum(rec.fdq) || typeof rec.rh !== 'string') return false;
  if (rec.op === 'upd') {
    const m = messages.get(rec.id);
    if (m) Object.assign(m, { visibleAt: rec.vis, dequeueCount: rec.dq, firstDequeueTime: rec.fdq, receiptHandle: rec.rh });
    return true;
  }
  if (rec.op !== 'put' || !isNum(rec.seq) || typeof rec.body !== 'string' || typeof rec.md5 !== 'string' || !isNum(rec.enq)) return false;
  if (!isNum(rec.pri) || !isPriority(rec.pri)) return false;
  const existing = messages.get(rec.id);
  if (existing) {
    // Only a snapshot followed by the record it already reflects repeats a put; keep the position.
    Object.assign(existing, { visibleAt: rec.vis, dequeueCount: rec.dq, firstDequeueTime: rec.fdq, receiptHandle: rec.rh });
    return true;
  }
  messages.insert({
    id: rec.id,
    seq: rec.seq,
    body: rec.body,
    md5: rec.md5,
    priority: rec.pri,
    enqueueTime: rec.enq,
    visibleAt: rec.vis,
    dequeueCount: rec.dq,
    firstDequeueTime: rec.fdq,
    receiptHandle: rec.rh,
  });
  return true;
}

/**
 * @returns undefined when there is no meta.json
 * @throws Error when there is one but it cannot be used: that is damage, and deleting the queue's
 *   messages to "recover" would be worse than refusing to start
 */
async function readMeta(dir: string): Promise<QueueMeta | undefined> {
  const file = path.join(dir, 'meta.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const meta = JSON.parse(text) as QueueMeta;
    if (meta.v !== 1 || meta.name !== path.basename(dir) || !isNum(meta.createTime) || !isNum(meta.lastModifyTime)) {
      throw new Error('unexpected content');
    }
    return { ...meta, attributes: withDefaults(validateQueueAttributes(meta.attributes ?? {})) };
  } catch (e) {
    throw new Error(`${file} is damaged (${(e as Error).message}); repair or remove the queue folder to start`);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
