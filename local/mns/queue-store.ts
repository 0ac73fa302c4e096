/**
 * Queue state and message semantics of the local MNS, kept durable on disk.
 *
 * Layout under `dataDir`: `LOCK` (the owning pid), and one folder per queue, `queues/<name>/`, with
 * `meta.json` (attributes, rewritten atomically) and `log.jsonl` (a {@link Journal} of message
 * records). Every change is applied in memory synchronously — which is what makes a receive atomic:
 * two consumers can never pick the same message — and acknowledged only once its record is on disk.
 * Replaying the log on start restores every accepted message with its dequeue count and invisibility,
 * so a message that was received but not deleted comes back when its visibility timeout ends.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { MnsError, outOfRange, type MnsErrorCode } from './errors.ts';
import { syncDirectory } from '../file-writes.ts';
import { Journal, readJournal, writeFileDurably } from './journal.ts';
import {
  checkQueueName,
  sameAttributes,
  validateQueueAttributes,
  withDefaults,
  type QueueAttributes,
} from './queue-attributes.ts';
import { randomHex } from '../random-hex.ts';

/** Highest priority a message can have (a smaller number is served first). */
export const HIGHEST_PRIORITY = 1;
/** Lowest priority a message can have. */
export const LOWEST_PRIORITY = 16;
/** Priority of a message sent without one. */
export const DEFAULT_PRIORITY = 8;
/** Longest per-message delay, in seconds. */
export const MAX_DELAY_SECONDS = 604800;
/** Range of a ChangeMessageVisibility timeout, in seconds. */
export const VISIBILITY_TIMEOUT_RANGE = [1, 43200] as const;

/** One message to send. */
export interface SendInput {
  /** The body exactly as stored and returned (fleetrun sends base64). */
  body: string;
  /** Overrides the queue's DelaySeconds. */
  delaySeconds?: number;
  /** 1 (served first) … 16; default 8. */
  priority?: number;
}

/** What SendMessage answers for one message. */
export interface SentMessage {
  messageId: string;
  /** Uppercase hex MD5 of the body's UTF-8 bytes. */
  bodyMd5: string;
}

/** A message as PeekMessage shows it. Times are epoch milliseconds. */
export interface MessageView {
  messageId: string;
  body: string;
  bodyMd5: string;
  enqueueTime: number;
  /** Unset until the message is received for the first time. */
  firstDequeueTime: number | undefined;
  dequeueCount: number;
  priority: number;
}

/** A message as ReceiveMessage hands it out. */
export interface ReceivedMessage extends MessageView {
  /** Valid for DeleteMessage / ChangeMessageVisibility until `nextVisibleTime`, or until replaced. */
  receiptHandle: string;
  nextVisibleTime: number;
}

/** GetQueueAttributes: attributes plus counts. Times are epoch milliseconds. */
export interface QueueInfo extends QueueAttributes {
  name: string;
  createTime: number;
  lastModifyTime: number;
  /** Visible now. */
  activeMessages: number;
  /** Received and not yet visible again. */
  inactiveMessages: number;
  /** Sent with a delay that has not yet passed. */
  delayMessages: number;
}

/** One failed entry of a BatchDeleteMessage. */
export interface DeleteFailure {
  receiptHandle: string;
  code: MnsErrorCode;
  message: string;
}

/** Options of {@link QueueStore.open}. */
export interface QueueStoreOptions {
  /** Folder holding the durable state; created if missing. One store per folder at a time. */
  dataDir: string;
  /** Recovery notes (dropped torn records) and disk failures are reported here. */
  log?: (line: string) => void;
  /** Sync every journal write before acknowledging it (default true); without, state survives a crash of the process but not of the machine. */
  fsync?: boolean;
}

interface StoredMessage {
  readonly id: string;
  /** Enqueue order within the queue; breaks ties between equal priorities. */
  readonly seq: number;
  readonly body: string;
  readonly md5: string;
  readonly priority: number;
  readonly enqueueTime: number;
  visibleAt: number;
  dequeueCount: number;
  /** 0 until first received. */
  firstDequeueTime: number;
  /** '' until first received. */
  receiptHandle: string;
}

// Records set absolute values, never increments, so replaying one twice changes nothing; the
// journal relies on that when a snapshot already contains a change whose record follows it.
type PutRecord = { op: 'put'; id: string; seq: number; body: string; md5: string; pri: number; enq: number; vis: number; dq: number; fdq: number; rh: string };
type UpdRecord = { op: 'upd'; id: string; vis: number; dq: number; fdq: number; rh: string };
type DelRecord = { op: 'del'; id: string };

interface QueueMeta {
  v: 1;
  name: string;
  attributes: QueueAttributes;
  createTime: number;
  lastModifyTime: number;
}

class Queue {
  readonly messages = new Map<string, StoredMessage>();
  /** Index 0 is priority 1. Each map keeps insertion (= enqueue) order. */
  readonly byPriority: Map<string, StoredMessage>[] = Array.from({ length: LOWEST_PRIORITY }, () => new Map());
  journal: Journal | undefined;
  nextSeq = 1;
  ready = false;
  whenReady: Promise<void> = Promise.resolve();
  readonly waiters = new Set<() => void>();
  wakeTimer: NodeJS.Timeout | undefined;
  wakeAt = Number.POSITIVE_INFINITY;
  /** Serialises meta.json rewrites so the file ends up with the latest attributes. */
  metaWrites: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly dir: string,
    public attributes: QueueAttributes,
    readonly createTime: number,
    public lastModifyTime: number,
  ) {}

  insert(m: StoredMessage): void {
    this.messages.set(m.id, m);
    this.byPriority[m.priority - 1]!.set(m.id, m);
    if (m.seq >= this.nextSeq) this.nextSeq = m.seq + 1;
  }

  remove(m: StoredMessage): void {
    this.messages.delete(m.id);
    this.byPriority[m.priority - 1]!.delete(m.id);
  }

  expired(m: StoredMessage, now: number): boolean {
    return now >= m.enqueueTime + this.attributes.MessageRetentionPeriod * 1000;
  }

  meta(): QueueMeta {
    return { v: 1, name: this.name, attributes: this.attributes, createTime: this.createTime, lastModifyTime: this.lastModifyTime };
  }

  *snapshot(): Generator<PutRecord> {
    const now = Date.now();
    for (const m of this.messages.values()) if (!this.expired(m, now)) yield putRecord(m);
  }
}

const LOCKS_HELD = new Set<string>();
const RECEIPT_HANDLE_RE = /^([0-9A-F]{32})-[0-9a-f]{1,8}-[0-9a-f]{16}$/;
const TRASH_PREFIX = '.deleted-';
/** Compact a log once it is this many times the live message count (and at least MIN_COMPACT lines). */
const COMPACT_FACTOR = 4;
const MIN_COMPACT = 1000;
/** setTimeout's ceiling; a longer wait is simply re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * All queues of one emulator and their messages. Methods throw {@link MnsError} for anything the API
 * answers with an error (QueueNotExist, ReceiptHandleError, …) and `InternalError` when the disk fails.
 */
export class QueueStore {
  readonly dataDir: string;
  readonly #queuesDir: string;
  readonly #log: (line: string) => void;
  readonly #queues = new Map<string, Queue>();
  readonly #deleting = new Map<string, Promise<void>>();
  readonly #releaseLock: () => Promise<void>;
  readonly #fsync: boolean;
  #closed = false;

  private constructor(dataDir: string, releaseLock: () => Promise<void>, log: (line: string) => void, fsync: boolean) {
    this.dataDir = dataDir;
    this.#queuesDir = path.join(dataDir, 'queues');
    this.#releaseLock = releaseLock;
    this.#log = log;
    this.#fsync = fsync;
  }

  /** Opens (or initialises) the state in `dataDir`, replaying every queue's log. */
  static async open(options: QueueStoreOptions): Promise<QueueStore> {
    const dataDir = path.resolve(options.dataDir);
    const log = options.log ?? (() => {});
    await mkdir(path.join(dataDir, 'queues'), { recursive: true });
    const release = await acquireLock(dataDir);
    const store = new QueueStore(dataDir, release, log, options.fsync ?? true);
    try {
      await store.#recover();
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }

  // ------------------------------------------------------------------------------------------------
  // queues

  /**
   * CreateQueue.
   * @returns `'created'`, or `'exists'` when a queue with the same name and attributes is there
   * @throws MnsError `QueueAlreadyExist` when it exists with other attributes
   */
  async createQueue(name: string, attributes: Partial<QueueAttributes> = {}): Promise<'created' | 'exists'> {
    this.#checkOpen();
    checkQueueName(name);
    const wanted = withDefaults(validateQueueAttributes(attributes));
    for (;;) {
      const pendingDelete = this.#deleting.get(name);
      if (pendingDelete) {
        await pendingDelete.catch(() => {});
        continue;
      }
      const existing = this.#queues.get(name);
      if (existing) {
        await existing.whenReady.catch(() => {});
        if (this.#queues.get(name) !== existing) continue;
        if (!sameAttributes(existing.attributes, wanted)) throw new MnsError('QueueAlreadyExist');
        return 'exists';
      }
      break;
    }
    const now = Date.now();
    const q = new Queue(name, path.join(this.#queuesDir, name), wanted, now, now);
    this.#queues.set(name, q);
    q.whenReady = this.#initQueue(q);
    try {
      await q.whenReady;
    } catch (e) {
      if (this.#queues.get(name) === q) this.#queues.delete(name);
      throw internal(`could not create queue ${name}`, e);
    }
    return 'created';
  }

  /** SetQueueAttributes: changes only the attributes given. */
  async setQueueAttributes(name: string, attributes: Partial<QueueAttributes>): Promise<void> {
    const changes = validateQueueAttributes(attributes);
    const q = await this.#ready(name);
    q.attributes = { ...q.attributes, ...changes };
    q.lastModifyTime = Date.now();
    await this.#writeMeta(q);
  }

  /** GetQueueAttributes. */
  async getQueueAttributes(name: string): Promise<QueueInfo> {
    const q = await this.#ready(name);
    const now = Date.now();
    let activeMessages = 0;
    let inactiveMessages = 0;
    let delayMessages = 0;
    const expired: StoredMessage[] = [];
    for (const m of q.messages.values()) {
      if (q.expired(m, now)) expired.push(m);
      else if (m.visibleAt <= now) activeMessages++;
      else if (m.dequeueCount > 0) inactiveMessages++;
      else delayMessages++;
    }
    this.#purge(q, expired);
    return {
      name: q.name,
      ...q.attributes,
      createTime: q.createTime,
      lastModifyTime: q.lastModifyTime,
      activeMessages,
      inactiveMessages,
      delayMessages,
    };
  }

  /**
   * DeleteQueue, with all its messages. Deleting a queue that does not exist succeeds, as the API
   * documents no error for it.
   * @returns whether a queue was deleted
   */
  async deleteQueue(name: string): Promise<boolean> {
    this.#checkOpen();
    checkQueueName(name);
    const pending = this.#deleting.get(name);
    if (pending) {
      await pending.catch(() => {});
      return false;
    }
    const q = this.#queues.get(name);
    if (!q) return false;
    await q.whenReady.catch(() => {});
    if (this.#queues.get(name) !== q) return this.deleteQueue(name);
    this.#queues.delete(name);
    // Waiting consumers retry, find no queue and answer QueueNotExist.
    this.#wakeAll(q);
    const work = (async () => {
      await q.journal?.close();
      await q.metaWrites.catch(() => {});
      const trash = path.join(this.#queuesDir, `${TRASH_PREFIX}${name}-${randomHex(4)}`);
      await rename(q.dir, trash);
      await syncDirectory(this.#queuesDir);
      await rm(trash, { recursive: true, force: true });
    })();
    this.#deleting.set(name, work);
    try {
      await work;
    } catch (e) {
      throw internal(`could not delete queue ${name}`, e);
    } finally {
      if (this.#deleting.get(name) === work) this.#deleting.delete(name);
    }
    return true;
  }

  /**
   * ListQueue: names in byte order.
   * @param marker the first name to return (a previous call's `nextMarker`)
   * @returns `nextMarker` set only when more names follow
   */
  listQueues(options: { prefix?: string; marker?: string; limit?: number } = {}): { names: string[]; nextMarker?: string } {
    this.#checkOpen();
    const prefix = options.prefix ?? '';
    const marker = options.marker ?? '';
    const limit = options.limit ?? 1000;
    const names = [...this.#queues.values()]
      .filter((q) => q.ready && q.name.startsWith(prefix) && q.name >= marker)
      .map((q) => q.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page = names.slice(0, limit);
    return names.length > limit ? { names: page, nextMarker: names[limit]! } : { names: page };
  }

  /** Whether a queue exists (and has finished being created). */
  hasQueue(name: string): boolean {
    return this.#queues.get(name)?.ready === true;
  }

  // ------------------------------------------------------------------------------------------------
  // messages

  /**
   * SendMessage / BatchSendMessage. All messages are checked before any is accepted.
   * @throws MnsError `InvalidArgument` for an empty or oversized body, a bad delay or priority
   */
  async sendMessages(name: string, inputs: SendInput[]): Promise<SentMessage[]> {
    const q = await this.#ready(name);
    const now = Date.now();
    for (const input of inputs) {
      const size = Buffer.byteLength(input.body, 'utf8');
      if (size < 1 || size > q.attributes.MaximumMessageSize) throw outOfRange('MessageBody length', 1, q.attributes.MaximumMessageSize, 'bytes');
      if (input.delaySeconds !== undefined && !inRange(input.delaySeconds, 0, MAX_DELAY_SECONDS)) throw outOfRange('DelaySeconds', 0, MAX_DELAY_SECONDS, 'seconds');
      if (input.priority !== undefined && !inRange(input.priority, HIGHEST_PRIORITY, LOWEST_PRIORITY)) throw outOfRange('Priority', HIGHEST_PRIORITY, LOWEST_PRIORITY);
    }
    const sent: SentMessage[] = [];
    const writes: Promise<void>[] = [];
    let visibleNow = false;
    for (const input of inputs) {
      const delay = input.delaySeconds ?? q.attributes.DelaySeconds;
      const m: StoredMessage = {
        id: randomHex(16).toUpperCase(),
        seq: q.nextSeq,
        body: input.body,
        md5: createHash('md5').update(input.body, 'utf8').digest('hex').toUpperCase(),
        priority: input.priority ?? DEFAULT_PRIORITY,
        enqueueTime: now,
        visibleAt: now + delay * 1000,
        dequeueCount: 0,
        firstDequeueTime: 0,
        receiptHandle: '',
      };
      q.insert(m);
      visibleNow ||= delay === 0;
      writes.push(this.#append(q, putRecord(m)));
      sent.push({ messageId: m.id, bodyMd5: m.md5 });
    }
    if (visibleNow) this.#wakeAll(q);
    else this.#armWake(q);
    await this.#persisted(writes);
    return sent;
  }

  /**
   * ReceiveMessage / BatchReceiveMessage: up to `max` visible messages, highest priority first and
   * then in enqueue order. Each becomes invisible for the queue's VisibilityTimeout, gets a new receipt
   * handle and one more dequeue. With a wait (`waitMs`, else the queue's PollingWaitSeconds), returns
   * as soon as a message becomes visible.
   * @returns an empty list when nothing became visible in time, or `signal` was aborted
   */
  async receiveMessages(name: string, options: { max: number; waitMs?: number; signal?: AbortSignal }): Promise<ReceivedMessage[]> {
    let deadline: number | undefined;
    for (;;) {
      // A consumer that went away must not take messages: they would sit invisible for nothing.
      if (options.signal?.aborted) return [];
      const q = await this.#ready(name);
      if (options.signal?.aborted) return [];
      const now = Date.now();
      const taken = this.#takeVisible(q, options.max, now);
      if (taken.length > 0) {
        const received = taken.map((m) => ({ ...view(m), receiptHandle: m.receiptHandle, nextVisibleTime: m.visibleAt }));
        this.#armWake(q);
        await this.#persisted(taken.map((m) => this.#append(q, updRecord(m))));
        return received;
      }
      deadline ??= now + (options.waitMs ?? q.attributes.PollingWaitSeconds * 1000);
      const remaining = deadline - now;
      if (remaining <= 0) return [];
      await this.#waitForChange(q, remaining, options.signal);
    }
  }

  /** PeekMessage / BatchPeekMessage: visible messages in receive order, without changing them. */
  async peekMessages(name: string, max: number): Promise<MessageView[]> {
    const q = await this.#ready(name);
    const now = Date.now();
    const out: MessageView[] = [];
    const expired: StoredMessage[] = [];
    for (const bucket of q.byPriority) {
      for (const m of bucket.values()) {
        if (q.expired(m, now)) expired.push(m);
        else if (m.visibleAt <= now) out.push(view(m));
        if (out.length >= max) break;
      }
      if (out.length >= max) break;
    }
    this.#purge(q, expired);
    return out;
  }

  /**
   * DeleteMessage.
   * @throws MnsError `ReceiptHandleError` for a handle that is malformed, expired or superseded;
   *   `MessageNotExist` when its message is gone
   */
  async deleteMessage(name: string, receiptHandle: string): Promise<void> {
    const q = await this.#ready(name);
    const m = this.#resolveHandle(q, receiptHandle, Date.now());
    q.remove(m);
    await this.#persisted([this.#append(q, { op: 'del', id: m.id })]);
  }

  /** BatchDeleteMessage: deletes what it can and reports the rest. */
  async deleteMessages(name: string, receiptHandles: string[]): Promise<DeleteFailure[]> {
    const q = await this.#ready(name);
    const now = Date.now();
    const failures: DeleteFailure[] = [];
    const writes: Promise<void>[] = [];
    for (const handle of receiptHandles) {
      try {
        const m = this.#resolveHandle(q, handle, now);
        q.remove(m);
        writes.push(this.#append(q, { op: 'del', id: m.id }));
      } catch (e) {
        if (!(e instanceof MnsError)) throw e;
        failures.push({ receiptHandle: handle, code: e.code, message: e.message });
      }
    }
    await this.#persisted(writes);
    return failures;
  }

  /**
   * ChangeMessageVisibility: the message stays invisible for `seconds` from now. The old handle stops
   * working; the returned one replaces it.
   */
  async changeVisibility(name: string, receiptHandle: string, seconds: number): Promise<{ receiptHandle: string; nextVisibleTime: number }> {
    const [low, high] = VISIBILITY_TIMEOUT_RANGE;
    if (!inRange(seconds, low, high)) throw outOfRange('VisibilityTimeout', low, high, 'seconds');
    const q = await this.#ready(name);
    const now = Date.now();
    const m = this.#resolveHandle(q, receiptHandle, now);
    m.visibleAt = now + seconds * 1000;
    m.receiptHandle = newReceiptHandle(m);
    this.#armWake(q);
    await this.#persisted([this.#append(q, updRecord(m))]);
    return { receiptHandle: m.receiptHandle, nextVisibleTime: m.visibleAt };
  }

  /** Ends long polls, waits for queued writes and releases the data directory. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const q of this.#queues.values()) this.#wakeAll(q);
    await Promise.allSettled(this.#deleting.values());
    await Promise.allSettled(
      [...this.#queues.values()].map(async (q) => {
        await q.whenReady.catch(() => {});
        await q.journal?.close();
        await q.metaWrites.catch(() => {});
      }),
    );
    await this.#releaseLock();
  }

  // ------------------------------------------------------------------------------------------------
  // internals

  #checkOpen(): void {
    if (this.#closed) throw new MnsError('InternalError', 'The local MNS store is closed.');
  }

  async #ready(name: string): Promise<Queue> {
    this.#checkOpen();
    checkQueueName(name);
    const q = this.#queues.get(name);
    if (!q) throw new MnsError('QueueNotExist');
    if (!q.ready) {
      await q.whenReady.catch(() => {});
      this.#checkOpen();
      if (this.#queues.get(name) !== q || !q.ready) throw new MnsError('QueueNotExist');
    }
    return q;
  }

  #takeVisible(q: Queue, max: number, now: number): StoredMessage[] {
    const taken: StoredMessage[] = [];
    const expired: StoredMessage[] = [];
    outer: for (const bucket of q.byPriority) {
      for (const m of bucket.values()) {
        if (q.expired(m, now)) {
          expired.push(m);
          continue;
        }
        if (m.visibleAt > now) continue;
        m.dequeueCount += 1;
        if (m.firstDequeueTime === 0) m.firstDequeueTime = now;
        m.visibleAt = now + q.attributes.VisibilityTimeout * 1000;
        m.receiptHandle = newReceiptHandle(m);
        taken.push(m);
        if (taken.length >= max) break outer;
      }
    }
    this.#purge(q, expired);
    return taken;
  }

  #resolveHandle(q: Queue, handle: string, now: number): StoredMessage {
    const match = RECEIPT_HANDLE_RE.exec(handle);
    if (!match) throw new MnsError('ReceiptHandleError');
    const m = q.messages.get(match[1]!);
    if (!m || q.expired(m, now)) throw new MnsError('MessageNotExist');
    if (m.receiptHandle !== handle || m.visibleAt <= now) {
      throw new MnsError('ReceiptHandleError', 'The receipt handle has expired or was replaced by a newer receive or visibility change.');
    }
    return m;
  }

  /** Retention expiry. The records keep a restart with a longer retention from bringing them back. */
  #purge(q: Queue, expired: StoredMessage[]): void {
    for (const m of expired) {
      q.remove(m);
      this.#append(q, { op: 'del', id: m.id }).catch(() => {});
    }
  }

  #append(q: Queue, record: PutRecord | UpdRecord | DelRecord): Promise<void> {
    if (!q.journal) return Promise.reject(new Error(`queue ${q.name} has no journal`));
    return q.journal.append(record);
  }

  async #persisted(writes: Promise<void>[]): Promise<void> {
    const results = await Promise.allSettled(writes);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw internal('the change could not be written to disk', failed.reason);
  }

  #waitForChange(q: Queue, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        q.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        if (q.waiters.size === 0) {
          // Nobody left to wake: a timer for a far-off delayed message would only hold the process.
          clearTimeout(q.wakeTimer);
          q.wakeTimer = undefined;
          q.wakeAt = Number.POSITIVE_INFINITY;
        }
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS));
      q.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
      this.#armWake(q);
    });
  }

  #wakeAll(q: Queue): void {
    clearTimeout(q.wakeTimer);
    q.wakeTimer = undefined;
    q.wakeAt = Number.POSITIVE_INFINITY;
    for (const w of [...q.waiters]) w();
  }

  /** With consumers waiting, set a timer for the next moment an invisible message becomes visible. */
  #armWake(q: Queue): void {
    if (q.waiters.size === 0) return;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const m of q.messages.values()) if (m.visibleAt > now && m.visibleAt < next) next = m.visibleAt;
    if (next >= q.wakeAt) return;
    clearTimeout(q.wakeTimer);
    q.wakeAt = next;
    // +1 ms: a timer may fire on the very millisecond, and visibility is `visibleAt <= now`.
    q.wakeTimer = setTimeout(() => this.#wakeAll(q), Math.min(next - now + 1, MAX_TIMER_MS));
  }

  async #initQueue(q: Queue): Promise<void> {
    // A folder without meta.json is a creation that never completed; it was never acknowledged.
    await rm(q.dir, { recursive: true, force: true });
    await mkdir(q.dir);
    q.journal = await this.#openJournal(q);
    await writeFileDurably(path.join(q.dir, 'meta.json'), JSON.stringify(q.meta()));
    await syncDirectory(this.#queuesDir);
    q.ready = true;
  }

  #openJournal(q: Queue): Promise<Journal> {
    return Journal.create(path.join(q.dir, 'log.jsonl'), {
      snapshot: () => q.snapshot(),
      shouldCompact: (lines) => lines >= MIN_COMPACT && lines > COMPACT_FACTOR * q.messages.size,
      log: this.#log,
      fsync: this.#fsync,
    });
  }

  #writeMeta(q: Queue): Promise<void> {
    const write = q.metaWrites.catch(() => {}).then(() => writeFileDurably(path.join(q.dir, 'meta.json'), JSON.stringify(q.meta())));
    q.metaWrites = write;
    return write.catch((e: unknown) => {
      throw internal(`could not save the attributes of ${q.name}`, e);
    });
  }

  async #recover(): Promise<void> {
    for (const entry of await readdir(this.#queuesDir, { withFileTypes: true })) {
      const dir = path.join(this.#queuesDir, entry.name);
      if (entry.name.startsWith(TRASH_PREFIX)) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      if (!entry.isDirectory()) continue;
      const meta = await readMeta(dir);
      if (!meta) {
        // meta.json is written last and atomically, so its absence means the creation never finished.
        this.#log(`[mns] removing ${dir}: no meta.json (a CreateQueue that never completed)`);
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      const q = new Queue(meta.name, dir, meta.attributes, meta.createTime, meta.lastModifyTime);
      const { records, badLines } = await readJournal(path.join(dir, 'log.jsonl'));
      let ignored = badLines;
      for (const r of records) if (!replay(q, r)) ignored++;
      if (ignored > 0) this.#log(`[mns] queue ${q.name}: ignored ${ignored} unreadable log line(s) (a write cut short by a crash is expected)`);
      // Rewriting the log now drops the torn tail and bounds its growth across restarts.
      q.journal = await this.#openJournal(q);
      q.ready = true;
      this.#queues.set(q.name, q);
    }
  }
}

function view(m: StoredMessage): MessageView {
  return {
    messageId: m.id,
    body: m.body,
    bodyMd5: m.md5,
    enqueueTime: m.enqueueTime,
    firstDequeueTime: m.firstDequeueTime === 0 ? undefined : m.firstDequeueTime,
    dequeueCount: m.dequeueCount,
    priority: m.priority,
  };
}

/** `<MessageId>-<dequeue count>-<random>`: URL-safe, because the SDK pastes it into the URL unencoded. */
function newReceiptHandle(m: StoredMessage): string {
  return `${m.id}-${m.dequeueCount.toString(16)}-${randomHex(8)}`;
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
function replay(q: Queue, r: unknown): boolean {
  if (typeof r !== 'object' || r === null) return false;
  const rec = r as Record<string, unknown>;
  if (typeof rec.id !== 'string') return false;
  if (rec.op === 'del') {
    const m = q.messages.get(rec.id);
    if (m) q.remove(m);
    return true;
  }
  if (!isNum(rec.vis) || !isNum(rec.dq) || !isNum(rec.fdq) || typeof rec.rh !== 'string') return false;
  if (rec.op === 'upd') {
    const m = q.messages.get(rec.id);
    if (m) Object.assign(m, { visibleAt: rec.vis, dequeueCount: rec.dq, firstDequeueTime: rec.fdq, receiptHandle: rec.rh });
    return true;
  }
  if (rec.op !== 'put' || !isNum(rec.seq) || typeof rec.body !== 'string' || typeof rec.md5 !== 'string' || !isNum(rec.enq)) return false;
  if (!isNum(rec.pri) || !inRange(rec.pri, HIGHEST_PRIORITY, LOWEST_PRIORITY)) return false;
  const existing = q.messages.get(rec.id);
  if (existing) {
    // Only a snapshot followed by the record it already reflects repeats a put; keep the position.
    Object.assign(existing, { visibleAt: rec.vis, dequeueCount: rec.dq, firstDequeueTime: rec.fdq, receiptHandle: rec.rh });
    return true;
  }
  q.insert({
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

/**
 * One store per data directory: two writers appending to the same logs would corrupt them. The lock
 * file holds the owner's pid, so a lock left by a crashed process is recognised as stale.
 */
async function acquireLock(dataDir: string): Promise<() => Promise<void>> {
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

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function internal(what: string, cause: unknown): MnsError {
  return new MnsError('InternalError', `${what}: ${cause instanceof Error ? cause.message : String(cause)}`);
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function inRange(v: number, low: number, high: number): boolean {
  return Number.isInteger(v) && v >= low && v <= high;
}
