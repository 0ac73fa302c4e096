/**
 * One queue's messages and what MNS does with them: priorities (1 is served first, enqueue order
 * within one), delays, visibility timeouts and receipt handles, DequeueCount, retention, batches and
 * long polling.
 *
 * Every change is applied in memory synchronously — which is what makes a receive atomic: two
 * consumers can never take the same message — and handed to the queue's {@link MessageChanges}
 * (queue-files.ts writes it to the queue's journal); the call resolves only once that is durable.
 */
import { createHash } from 'node:crypto';
import { internalError, MnsError, outOfRange, type MnsErrorCode } from './errors.ts';
import type { QueueAttributes } from './queue-attributes.ts';
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

/** One failed entry of a BatchDeleteMessage. */
export interface DeleteFailure {
  receiptHandle: string;
  code: MnsErrorCode;
  message: string;
}

/** The message counts GetQueueAttributes reports. */
export interface MessageCounts {
  /** Visible now. */
  activeMessages: number;
  /** Received and not yet visible again. */
  inactiveMessages: number;
  /** Sent with a delay that has not yet passed. */
  delayMessages: number;
}

/** A message as the queue keeps it. Times are epoch milliseconds. */
export interface StoredMessage {
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

/** Where a queue's changes go to become durable; each promise resolves once the change is on disk. */
export interface MessageChanges {
  /** A new message. */
  put(m: StoredMessage): Promise<void>;
  /** A message whose visibility, receipt handle or dequeue count changed. */
  update(m: StoredMessage): Promise<void>;
  /** A message deleted or expired. */
  remove(m: StoredMessage): Promise<void>;
}

/** Options of {@link receiveMessages}. */
export interface ReceiveOptions {
  max: number;
  /** How long to wait for a message; default the queue's PollingWaitSeconds. */
  waitMs?: number;
  /** Aborted when the consumer goes away or the service stops. */
  signal?: AbortSignal;
}

const RECEIPT_HANDLE_RE = /^([0-9A-F]{32})-[0-9a-f]{1,8}-[0-9a-f]{16}$/;
/** setTimeout's ceiling; a longer wait is simply re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The messages of one queue. */
export class MessageQueue {
  /** The queue's attributes; SetQueueAttributes replaces them, and later calls use the new ones. */
  attributes: QueueAttributes;
  readonly #changes: MessageChanges;
  readonly #messages = new Map<string, StoredMessage>();
  /** Index 0 is priority 1. Each map keeps insertion (= enqueue) order. */
  readonly #byPriority: Map<string, StoredMessage>[] = Array.from({ length: LOWEST_PRIORITY }, () => new Map());
  #nextSeq = 1;
  /** Long polls waiting for a message to become visible. */
  readonly #waiters = new Set<() => void>();
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;

  constructor(attributes: QueueAttributes, changes: MessageChanges) {
    this.attributes = attributes;
    this.#changes = changes;
  }

  /** Messages held, expired ones not yet purged included. */
  get size(): number {
    return this.#messages.size;
  }

  get(id: string): StoredMessage | undefined {
    return this.#messages.get(id);
  }

  /** Adds a message as it is, e.g. one read back from disk; no change is recorded. */
  insert(m: StoredMessage): void {
    this.#messages.set(m.id, m);
    this.#byPriority[m.priority - 1]!.set(m.id, m);
    if (m.seq >= this.#nextSeq) this.#nextSeq = m.seq + 1;
  }

  /** Drops a message; no change is recorded. */
  remove(m: StoredMessage): void {
    this.#messages.delete(m.id);
    this.#byPriority[m.priority - 1]!.delete(m.id);
  }

  /** The messages still within their retention period, e.g. for a snapshot. */
  *live(now: number): Generator<StoredMessage> {
    for (const m of this.#messages.values()) if (!this.#expired(m, now)) yield m;
  }

  /** GetQueueAttributes' counts. */
  counts(): MessageCounts {
    const now = Date.now();
    const counts: MessageCounts = { activeMessages: 0, inactiveMessages: 0, delayMessages: 0 };
    const expired: StoredMessage[] = [];
    for (const m of this.#messages.values()) {
      if (this.#expired(m, now)) expired.push(m);
      else if (m.visibleAt <= now) counts.activeMessages++;
      else if (m.dequeueCount > 0) counts.inactiveMessages++;
      else counts.delayMessages++;
    }
    this.#purge(expired);
    return counts;
  }

  /**
   * SendMessage / BatchSendMessage. All messages are checked before any is accepted.
   * @throws MnsError `InvalidArgument` for an empty or oversized body, a bad delay or priority
   */
  async send(inputs: SendInput[]): Promise<SentMessage[]> {
    const now = Date.now();
    for (const input of inputs) {
      const size = Buffer.byteLength(input.body, 'utf8');
      if (size < 1 || size > this.attributes.MaximumMessageSize) throw outOfRange('MessageBody length', 1, this.attributes.MaximumMessageSize, 'bytes');
      if (input.delaySeconds !== undefined && !inRange(input.delaySeconds, 0, MAX_DELAY_SECONDS)) throw outOfRange('DelaySeconds', 0, MAX_DELAY_SECONDS, 'seconds');
      if (input.priority !== undefined && !isPriority(input.priority)) throw outOfRange('Priority', HIGHEST_PRIORITY, LOWEST_PRIORITY);
    }
    const sent: SentMessage[] = [];
    const writes: Promise<void>[] = [];
    let visibleNow = false;
    for (const input of inputs) {
      const delay = input.delaySeconds ?? this.attributes.DelaySeconds;
      const m: StoredMessage = {
        id: randomHex(16).toUpperCase(),
        seq: this.#nextSeq,
        body: input.body,
        md5: createHash('md5').update(input.body, 'utf8').digest('hex').toUpperCase(),
        priority: input.priority ?? DEFAULT_PRIORITY,
        enqueueTime: now,
        visibleAt: now + delay * 1000,
        dequeueCount: 0,
        firstDequeueTime: 0,
        receiptHandle: '',
      };
      this.insert(m);
      visibleNow ||= delay === 0;
      writes.push(this.#changes.put(m));
      sent.push({ messageId: m.id, bodyMd5: m.md5 });
    }
    if (visibleNow) this.wakeAll();
    else this.#armWake();
    await persisted(writes);
    return sent;
  }

  /**
   * Takes up to `max` visible messages, highest priority first and then in enqueue order, at once:
   * each becomes invisible for the queue's VisibilityTimeout, gets a new receipt handle and one more
   * dequeue.
   * @returns undefined when none is visible, else the messages, once their new state is durable
   */
  takeVisible(max: number, now: number): Promise<ReceivedMessage[]> | undefined {
    const taken: StoredMessage[] = [];
    const expired: StoredMessage[] = [];
    outer: for (const bucket of this.#byPriority) {
      for (const m of bucket.values()) {
        if (this.#expired(m, now)) {
          expired.push(m);
          continue;
        }
        if (m.visibleAt > now) continue;
        m.dequeueCount += 1;
        if (m.firstDequeueTime === 0) m.firstDequeueTime = now;
        m.visibleAt = now + this.attributes.VisibilityTimeout * 1000;
        m.receiptHandle = newReceiptHandle(m);
        taken.push(m);
        if (taken.length >= max) break outer;
      }
    }
    this.#purge(expired);
    if (taken.length === 0) return undefined;
    const received = taken.map((m) => ({ ...view(m), receiptHandle: m.receiptHandle, nextVisibleTime: m.visibleAt }));
    this.#armWake();
    return persisted(taken.map((m) => this.#changes.update(m))).then(() => received);
  }

  /** PeekMessage / BatchPeekMessage: visible messages in receive order, without changing them. */
  peek(max: number): MessageView[] {
    const now = Date.now();
    const out: MessageView[] = [];
    const expired: StoredMessage[] = [];
    for (const bucket of this.#byPriority) {
      for (const m of bucket.values()) {
        if (this.#expired(m, now)) expired.push(m);
        else if (m.visibleAt <= now) out.push(view(m));
        if (out.length >= max) break;
      }
      if (out.length >= max) break;
    }
    this.#purge(expired);
    return out;
  }

  /**
   * DeleteMessage.
   * @throws MnsError `ReceiptHandleError` for a handle that is malformed, expired or superseded;
   *   `MessageNotExist` when its message is gone
   */
  async delete(receiptHandle: string): Promise<void> {
    const m = this.#resolveHandle(receiptHandle, Date.now());
    this.remove(m);
    await persisted([this.#changes.remove(m)]);
  }

  /** BatchDeleteMessage: deletes what it can and reports the rest. */
  async deleteEach(receiptHandles: string[]): Promise<DeleteFailure[]> {
    const now = Date.now();
    const failures: DeleteFailure[] = [];
    const writes: Promise<void>[] = [];
    for (const handle of receiptHandles) {
      try {
        const m = this.#resolveHandle(handle, now);
        this.remove(m);
        writes.push(this.#changes.remove(m));
      } catch (e) {
        if (!(e instanceof MnsError)) throw e;
        failures.push({ receiptHandle: handle, code: e.code, message: e.message });
      }
    }
    await persisted(writes);
    return failures;
  }

  /**
   * ChangeMessageVisibility: the message stays invisible for `seconds` (checked with
   * {@link checkVisibilityTimeout}) from now. The old handle stops working; the returned one replaces it.
   */
  async changeVisibility(receiptHandle: string, seconds: number): Promise<{ receiptHandle: string; nextVisibleTime: number }> {
    const now = Date.now();
    const m = this.#resolveHandle(receiptHandle, now);
    m.visibleAt = now + seconds * 1000;
    m.receiptHandle = newReceiptHandle(m);
    this.#armWake();
    await persisted([this.#changes.update(m)]);
    return { receiptHandle: m.receiptHandle, nextVisibleTime: m.visibleAt };
  }

  /** Waits until a message may have become visible, `ms` pass, or `signal` aborts. */
  waitForChange(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        if (this.#waiters.size === 0) {
          // Nobody left to wake: a timer for a far-off delayed message would only hold the process.
          clearTimeout(this.#wakeTimer);
          this.#wakeTimer = undefined;
          this.#wakeAt = Number.POSITIVE_INFINITY;
        }
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS));
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
      this.#armWake();
    });
  }

  /** Ends every wait: a message became visible, or the queue or the store is going away. */
  wakeAll(): void {
    clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    this.#wakeAt = Number.POSITIVE_INFINITY;
    for (const w of [...this.#waiters]) w();
  }

  /** With consumers waiting, set a timer for the next moment an invisible message becomes visible. */
  #armWake(): void {
    if (this.#waiters.size === 0) return;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const m of this.#messages.values()) if (m.visibleAt > now && m.visibleAt < next) next = m.visibleAt;
    if (next >= this.#wakeAt) return;
    clearTimeout(this.#wakeTimer);
    this.#wakeAt = next;
    // +1 ms: a timer may fire on the very millisecond, and visibility is `visibleAt <= now`.
    this.#wakeTimer = setTimeout(() => this.wakeAll(), Math.min(next - now + 1, MAX_TIMER_MS));
  }

  #expired(m: StoredMessage, now: number): boolean {
    return now >= m.enqueueTime + this.attributes.MessageRetentionPeriod * 1000;
  }

  #resolveHandle(handle: string, now: number): StoredMessage {
    const match = RECEIPT_HANDLE_RE.exec(handle);
    if (!match) throw new MnsError('ReceiptHandleError');
    const m = this.#messages.get(match[1]!);
    if (!m || this.#expired(m, now)) throw new MnsError('MessageNotExist');
    if (m.receiptHandle !== handle || m.visibleAt <= now) {
      throw new MnsError('ReceiptHandleError', 'The receipt handle has expired or was replaced by a newer receive or visibility change.');
    }
    return m;
  }

  /** Retention expiry. The records keep a restart with a longer retention from bringing them back. */
  #purge(expired: StoredMessage[]): void {
    for (const m of expired) {
      this.remove(m);
      this.#changes.remove(m).catch(() => {});
    }
  }
}

/**
 * ReceiveMessage / BatchReceiveMessage: up to `max` visible messages ({@link MessageQueue.takeVisible}).
 * With a wait (`waitMs`, else the queue's PollingWaitSeconds), returns as soon as a message becomes
 * visible. The queue is looked up again after each wait, so one deleted meanwhile ends the poll with
 * the lookup's error.
 * @returns an empty list when nothing became visible in time, or `signal` was aborted
 */
export async function receiveMessages(lookup: () => Promise<MessageQueue>, options: ReceiveOptions): Promise<ReceivedMessage[]> {
  let deadline: number | undefined;
  for (;;) {
    // A consumer that went away must not take messages: they would sit invisible for nothing.
    if (options.signal?.aborted) return [];
    const q = await lookup();
    if (options.signal?.aborted) return [];
    const now = Date.now();
    // Taking and, when nothing was taken, starting to wait happen in one synchronous step, so a
    // message sent in between cannot be missed.
    const taken = q.takeVisible(options.max, now);
    if (taken) return taken;
    deadline ??= now + (options.waitMs ?? q.attributes.PollingWaitSeconds * 1000);
    const remaining = deadline - now;
    if (remaining <= 0) return [];
    await q.waitForChange(remaining, options.signal);
  }
}

/** @throws MnsError `InvalidArgument` for a ChangeMessageVisibility timeout out of range */
export function checkVisibilityTimeout(seconds: number): void {
  const [low, high] = VISIBILITY_TIMEOUT_RANGE;
  if (!inRange(seconds, low, high)) throw outOfRange('VisibilityTimeout', low, high, 'seconds');
}

/** Whether `n` is a priority a message can have. */
export function isPriority(n: number): boolean {
  return inRange(n, HIGHEST_PRIORITY, LOWEST_PRIORITY);
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

/** Waits for the writes of one call; any that failed make the call fail. */
async function persisted(writes: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(writes);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw internalError('the change could not be written to disk', failed.reason);
}

function inRange(v: number, low: number, high: number): boolean {
  return Number.isInteger(v) && v >= low && v <= high;
}
