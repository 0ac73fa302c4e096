/**
 * An MNS queue as an EventBridge event-streaming source: messages are received in batches
 * (CountBasedWindow messages or TimeBasedWindow seconds, whichever comes first), handed to the
 * target as an array of CloudEvents, and deleted only after the target returned. A failed batch is
 * left for the queue's visibility timeout to deliver again; after MaximumRetryAttempts a message
 * goes to the dead-letter queue. A push that would pass the invocation body limit goes out in
 * parts. MNS out of reach (a restart, a connection reset) loses nothing already received: what the
 * window took goes out, and a delivered push's deletes are tried again. Event streaming's own delivery delay is undocumented: with `delay`, a message sent at t
 * is handed on no earlier than t + a drawn delay (held back by the source if received sooner).
 * @see docs/platform-facts.md §5.6, §7
 */
import { randomUUID } from 'node:crypto';
import MNSClient from '@alicloud/mns';

export interface MnsSourceOptions {
  client: MNSClient;
  queueName: string;
  /** `MNS-<function>-<trigger>`, the source and bus name EventBridge gives these events. */
  sourceName: string;
  region: string;
  accountId: string;
  countWindow: number;
  timeWindowSeconds: number;
  /** EventBridge base64-decodes bodies unless the trigger says IsBase64Decode: false. */
  base64Decode: boolean;
  maxRetryAttempts: number;
  deadLetterQueue?: string | undefined;
  target: (events: unknown[]) => Promise<unknown>;
  log: (line: string) => void;
  /** Draws each message's delivery delay in ms (event streaming's own, undocumented); none when absent. */
  delay?: (() => number) | undefined;
  /** The invocation body limit of the trigger's invocation type (sync 32 MB, async 128 KB); none when absent. */
  maxBodyBytes?: number | undefined;
}

interface Received {
  MessageId: string;
  ReceiptHandle: string;
  MessageBody: string;
  DequeueCount: string;
  /** Epoch milliseconds. */
  EnqueueTime?: string;
}

/** Attempts at deleting a delivered push's messages while MNS cannot be reached. */
const DELETE_ATTEMPTS = 5;

/** An answer from MNS (the SDK names those errors `MNS<Code>Error`), not a failure to reach it. */
function fromMns(e: unknown): boolean {
  return /^MNS\w*Error$/.test((e as { name?: string }).name ?? '');
}

function isEmpty(e: unknown): boolean {
  return (e as { name?: string }).name === 'MNSMessageNotExistError';
}

export class MnsStreamSource {
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** MessageId → when the message may be handed on (drawn once, so a message that comes again keeps its time). */
  private readonly readyAt = new Map<string, number>();
  /** Messages received before their time, newest receipt handle kept. */
  private readonly early = new Map<string, Received>();
  readonly counts = { batches: 0, delivered: 0, failedBatches: 0, deadLettered: 0 };

  constructor(private readonly o: MnsSourceOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** What may be handed on now: received messages whose delivery delay has passed, up to `max`. */
  private async receive(max: number, waitSeconds: number): Promise<Received[]> {
    if (!this.o.delay) return this.receiveFromQueue(max, waitSeconds);
    const ready = this.takeReady(max);
    if (ready.length >= max) return ready;
    // A long poll must not outlast the next held message's time, nor keep what is ready waiting.
    const untilNext = this.nextReadyAt() - Date.now();
    const wait = ready.length > 0 ? 0 : Math.min(waitSeconds, Math.max(0, Math.floor(untilNext / 1000)));
    for (const m of await this.receiveFromQueue(max - ready.length, wait)) this.hold(m);
    ready.push(...this.takeReady(max - ready.length));
    if (ready.length === 0 && wait < waitSeconds && this.early.size > 0) {
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(waitSeconds * 1000, this.nextReadyAt() - Date.now()))));
      ready.push(...this.takeReady(max));
    }
    return ready;
  }

  private hold(m: Received): void {
    if (!this.readyAt.has(m.MessageId)) {
      const sent = Number(m.EnqueueTime);
      this.readyAt.set(m.MessageId, (Number.isFinite(sent) ? sent : Date.now()) + this.o.delay!());
    }
    this.early.set(m.MessageId, m);
  }

  private takeReady(max: number): Received[] {
    const now = Date.now();
    const out: Received[] = [];
    for (const [id, m] of this.early) {
      if (out.length >= max) break;
      if (this.readyAt.get(id)! > now) continue;
      this.early.delete(id);
      out.push(m);
    }
    return out;
  }

  private nextReadyAt(): number {
    let next = Infinity;
    for (const id of this.early.keys()) next = Math.min(next, this.readyAt.get(id)!);
    return next;
  }

  private async receiveFromQueue(max: number, waitSeconds: number): Promise<Received[]> {
    try {
      const res = await this.o.client.batchReceiveMessage(this.o.queueName, Math.min(16, max), waitSeconds);
      const body = res.body as unknown as Received | Received[] | undefined;
      return body === undefined ? [] : Array.isArray(body) ? body : [body];
    } catch (e) {
      if (isEmpty(e)) return [];
      throw e;
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const batch: Received[] = [];
      let failed = false;
      try {
        await this.fill(batch);
      } catch (e) {
        // A receive that failed (MNS restarting, a connection reset) must not cost what the other
        // receives already took: those messages are invisible now, and dropping them here would hold
        // them back for the queue's whole visibility timeout. They go out with this push.
        failed = true;
        this.o.log(`[eventbridge] ${this.o.sourceName}: receive: ${(e as Error).message}`);
      }
      try {
        if (batch.length > 0) await this.deliver(batch);
      } catch (e) {
        failed = true;
        this.o.log(`[eventbridge] ${this.o.sourceName}: ${(e as Error).message}`);
      }
      if (failed) await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Fills `batch` until CountBasedWindow messages or the end of TimeBasedWindow; what was received stays in `batch` if a receive throws. */
  private async fill(batch: Received[]): Promise<void> {
    const deadline = Date.now() + this.o.timeWindowSeconds * 1000;
    while (!this.stopped && batch.length < this.o.countWindow) {
      const left = deadline - Date.now();
      // MNS long-polls in whole seconds; an empty queue must not be polled in a tight loop. Once
      // the window is over, a push still carries what is already queued, up to the count.
      const wait = batch.length === 0 ? 1 : left > 0 ? Math.max(1, Math.min(30, Math.ceil(left / 1000))) : 0;
      // Once nothing is waited for, the rest of the window is asked for at once, 16 (MNS's limit) per call.
      const want = this.o.countWindow - batch.length;
      const calls = wait === 0 ? Math.ceil(want / 16) : 1;
      const settled = await Promise.allSettled(Array.from({ length: calls }, (_, n) => this.receive(Math.min(16, want - n * 16), wait)));
      const got = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      for (const m of got) {
        // A message whose visibility ran out while the window filled comes again: keep its newest handle only.
        const at = batch.findIndex((b) => b.MessageId === m.MessageId);
        if (at >= 0) batch[at] = m;
        else batch.push(m);
      }
      const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
      if (got.length === 0 && batch.length > 0 && Date.now() >= deadline) break;
    }
  }

  private toEvent(m: Received): unknown {
    const now = new Date().toISOString();
    const body = this.o.base64Decode ? Buffer.from(m.MessageBody, 'base64').toString('utf8') : m.MessageBody;
    return {
      id: randomUUID(),
      source: this.o.sourceName,
      specversion: '1.0',
      type: 'mns:Queue:SendMessage',
      datacontenttype: 'application/json; charset=utf-8',
      subject: `acs:mns:${this.o.region}:${this.o.accountId}:queues/${this.o.queueName}`,
      time: now,
      aliyunaccountid: this.o.accountId,
      aliyunpublishtime: now,
      aliyunoriginalaccountid: this.o.accountId,
      aliyuneventbusname: this.o.sourceName,
      aliyunregionid: this.o.region,
      aliyunpublishaddr: '127.0.0.1',
      data: { requestId: randomUUID().replace(/-/g, '').toUpperCase(), messageId: m.MessageId, messageBody: body },
    };
  }

  private async deliver(batch: Received[]): Promise<void> {
    // Messages delivered too often go to the dead-letter queue instead of the function again.
    const fresh: Received[] = [];
    for (const m of batch) {
      if (Number(m.DequeueCount) > this.o.maxRetryAttempts + 1 && this.o.deadLetterQueue) {
        await this.o.client.sendMessage(this.o.deadLetterQueue, { MessageBody: m.MessageBody });
        await this.o.client.deleteMessage(this.o.queueName, m.ReceiptHandle).catch(() => {});
        this.readyAt.delete(m.MessageId);
        this.counts.deadLettered++;
      } else fresh.push(m);
    }
    for (const part of this.parts(fresh.map((m) => ({ m, event: this.toEvent(m) })))) await this.push(part);
  }

  /** The push in parts that each fit the invocation body limit (a JSON array: brackets and commas counted). */
  private parts(items: { m: Received; event: unknown }[]): { m: Received; event: unknown }[][] {
    const limit = this.o.maxBodyBytes;
    if (limit === undefined) return items.length > 0 ? [items] : [];
    const out: { m: Received; event: unknown }[][] = [];
    let part: { m: Received; event: unknown }[] = [];
    let bytes = 2;
    for (const item of items) {
      const size = Buffer.byteLength(JSON.stringify(item.event));
      if (part.length > 0 && bytes + 1 + size > limit) {
        out.push(part);
        part = [];
        bytes = 2;
      }
      bytes += size + (part.length > 0 ? 1 : 0);
      part.push(item);
    }
    if (part.length > 0) out.push(part);
    return out;
  }

  private async push(part: { m: Received; event: unknown }[]): Promise<void> {
    this.counts.batches++;
    try {
      await this.o.target(part.map((p) => p.event));
    } catch (e) {
      this.counts.failedBatches++;
      this.o.log(`[eventbridge] ${this.o.sourceName}: batch of ${part.length} failed, left for redelivery: ${(e as Error).message}`);
      return;
    }
    this.counts.delivered += part.length;
    for (const { m } of part) this.readyAt.delete(m.MessageId);
    // A handle may have gone stale if the target ran past the visibility timeout; the message then comes again.
    // BatchDeleteMessage takes at most 16 receipt handles; a push may carry up to CountBasedWindow.
    const deletes: Promise<unknown>[] = [];
    for (let i = 0; i < part.length; i += 16) deletes.push(this.deleteDelivered(part.slice(i, i + 16).map((p) => p.m.ReceiptHandle)));
    await Promise.all(deletes);
  }

  /**
   * Deletes what a push delivered. MNS out of reach (restarting, a connection reset) is tried again
   * (0.5, 1, 2, 4 s): a delivered message left in the queue would be pushed a second time. An
   * answer from MNS itself (a handle gone stale) is final.
   */
  private async deleteDelivered(handles: string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.o.client.batchDeleteMessage(this.o.queueName, handles);
        return;
      } catch (e) {
        this.o.log(`[eventbridge] ${this.o.sourceName}: delete: ${(e as Error).message}`);
        if (fromMns(e) || attempt >= DELETE_ATTEMPTS || this.stopped) return;
        await new Promise((r) => setTimeout(r, 500 * 2 ** (attempt - 1)));
      }
    }
  }
}
