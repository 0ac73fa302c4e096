/**
 * The queues of the local MNS: creating, listing, changing and deleting them, and the API's message
 * calls handed to the queue they name.
 *
 * What a queue does with its messages — visibility, receipt handles, priorities, delays, long
 * polling — is messages.ts; how queues and messages are kept on disk and read back is
 * queue-files.ts. A change is acknowledged only once its record is on disk.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { internalError, MnsError } from './errors.ts';
import type { Journal } from './journal.ts';
import {
  checkVisibilityTimeout,
  MessageQueue,
  receiveMessages,
  type DeleteFailure,
  type MessageCounts,
  type MessageView,
  type ReceivedMessage,
  type ReceiveOptions,
  type SendInput,
  type SentMessage,
} from './messages.ts';
import { checkQueueName, sameAttributes, validateQueueAttributes, withDefaults, type QueueAttributes } from './queue-attributes.ts';
import {
  acquireLock,
  createQueueFolder,
  journalChanges,
  openJournal,
  removeQueueFolder,
  replayJournal,
  storedQueues,
  writeMeta,
  type JournalSettings,
  type QueueMeta,
} from './queue-files.ts';

/** GetQueueAttributes: attributes plus counts. Times are epoch milliseconds. */
export interface QueueInfo extends QueueAttributes, MessageCounts {
  name: string;
  createTime: number;
  lastModifyTime: number;
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

/** One queue: its messages, and the files that keep them. */
class Queue {
  readonly messages: MessageQueue;
  journal: Journal | undefined;
  ready = false;
  whenReady: Promise<void> = Promise.resolve();
  /** Serialises meta.json rewrites so the file ends up with the latest attributes. */
  metaWrites: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly dir: string,
    attributes: QueueAttributes,
    readonly createTime: number,
    public lastModifyTime: number,
  ) {
    this.messages = new MessageQueue(attributes, journalChanges(() => this.journal, name));
  }

  get attributes(): QueueAttributes {
    return this.messages.attributes;
  }

  meta(): QueueMeta {
    return { v: 1, name: this.name, attributes: this.attributes, createTime: this.createTime, lastModifyTime: this.lastModifyTime };
  }
}

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
  readonly #journal: JournalSettings;
  #closed = false;

  private constructor(dataDir: string, releaseLock: () => Promise<void>, log: (line: string) => void, fsync: boolean) {
    this.dataDir = dataDir;
    this.#queuesDir = path.join(dataDir, 'queues');
    this.#releaseLock = releaseLock;
    this.#log = log;
    this.#journal = { log, fsync };
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
      throw internalError(`could not create queue ${name}`, e);
    }
    return 'created';
  }

  /** SetQueueAttributes: changes only the attributes given. */
  async setQueueAttributes(name: string, attributes: Partial<QueueAttributes>): Promise<void> {
    const changes = validateQueueAttributes(attributes);
    const q = await this.#ready(name);
    q.messages.attributes = { ...q.attributes, ...changes };
    q.lastModifyTime = Date.now();
    await this.#writeMeta(q);
  }

  /** GetQueueAttributes. */
  async getQueueAttributes(name: string): Promise<QueueInfo> {
    const q = await this.#ready(name);
    const counts = q.messages.counts();
    return {
      name: q.name,
      ...q.attributes,
      createTime: q.createTime,
      lastModifyTime: q.lastModifyTime,
      ...counts,
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
    q.messages.wakeAll();
    const work = (async () => {
      await q.journal?.close();
      await q.metaWrites.catch(() => {});
      await removeQueueFolder(this.#queuesDir, name, q.dir);
    })();
    this.#deleting.set(name, work);
    try {
      await work;
    } catch (e) {
      throw internalError(`could not delete queue ${name}`, e);
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
  // messages (messages.ts)

  /**
   * SendMessage / BatchSendMessage. All messages are checked before any is accepted.
   * @throws MnsError `InvalidArgument` for an empty or oversized body, a bad delay or priority
   */
  async sendMessages(name: string, inputs: SendInput[]): Promise<SentMessage[]> {
    return (await this.#ready(name)).messages.send(inputs);
  }

  /**
   * ReceiveMessage / BatchReceiveMessage: up to `max` visible messages, highest priority first and
   * then in enqueue order. Each becomes invisible for the queue's VisibilityTimeout, gets a new receipt
   * handle and one more dequeue. With a wait (`waitMs`, else the queue's PollingWaitSeconds), returns
   * as soon as a message becomes visible.
   * @returns an empty list when nothing became visible in time, or `signal` was aborted
   */
  receiveMessages(name: string, options: ReceiveOptions): Promise<ReceivedMessage[]> {
    return receiveMessages(async () => (await this.#ready(name)).messages, options);
  }

  /** PeekMessage / BatchPeekMessage: visible messages in receive order, without changing them. */
  async peekMessages(name: string, max: number): Promise<MessageView[]> {
    return (await this.#ready(name)).messages.peek(max);
  }

  /**
   * DeleteMessage.
   * @throws MnsError `ReceiptHandleError` for a handle that is malformed, expired or superseded;
   *   `MessageNotExist` when its message is gone
   */
  async deleteMessage(name: string, receiptHandle: string): Promise<void> {
    await (await this.#ready(name)).messages.delete(receiptHandle);
  }

  /** BatchDeleteMessage: deletes what it can and reports the rest. */
  async deleteMessages(name: string, receiptHandles: string[]): Promise<DeleteFailure[]> {
    return (await this.#ready(name)).messages.deleteEach(receiptHandles);
  }

  /**
   * ChangeMessageVisibility: the message stays invisible for `seconds` from now. The old handle stops
   * working; the returned one replaces it.
   */
  async changeVisibility(name: string, receiptHandle: string, seconds: number): Promise<{ receiptHandle: string; nextVisibleTime: number }> {
    checkVisibilityTimeout(seconds);
    return (await this.#ready(name)).messages.changeVisibility(receiptHandle, seconds);
  }

  /** Ends long polls, waits for queued writes and releases the data directory. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const q of this.#queues.values()) q.messages.wakeAll();
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

  async #initQueue(q: Queue): Promise<void> {
    q.journal = await createQueueFolder(this.#queuesDir, q.dir, q.meta(), q.messages, this.#journal);
    q.ready = true;
  }

  #writeMeta(q: Queue): Promise<void> {
    const write = q.metaWrites.catch(() => {}).then(() => writeMeta(q.dir, q.meta()));
    q.metaWrites = write;
    return write.catch((e: unknown) => {
      throw internalError(`could not save the attributes of ${q.name}`, e);
    });
  }

  async #recover(): Promise<void> {
    for await (const { dir, meta } of storedQueues(this.#queuesDir, this.#log)) {
      const q = new Queue(meta.name, dir, meta.attributes, meta.createTime, meta.lastModifyTime);
      const ignored = await replayJournal(dir, q.messages);
      if (ignored > 0) this.#log(`[mns] queue ${q.name}: ignored ${ignored} unreadable log line(s) (a write cut short by a crash is expected)`);
      // Rewriting the log now drops the torn tail and bounds its growth across restarts.
      q.journal = await openJournal(dir, q.messages, this.#journal);
      q.ready = true;
      this.#queues.set(q.name, q);
    }
  }
}
