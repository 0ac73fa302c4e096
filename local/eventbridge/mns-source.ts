/**
 * An MNS queue as an EventBridge event-streaming source: messages are received in batches
 * (CountBasedWindow messages or TimeBasedWindow seconds, whichever comes first), handed to the
 * target as an array of CloudEvents, and deleted only after the target returned. A failed batch is
 * left for the queue's visibility timeout to deliver again; after MaximumRetryAttempts a message
 * goes to the dead-letter queue.
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
}

interface Received {
  MessageId: string;
  ReceiptHandle: string;
  MessageBody: string;
  DequeueCount: string;
}

function isEmpty(e: unknown): boolean {
  return (e as { name?: string }).name === 'MNSMessageNotExistError';
}

export class MnsStreamSource {
  private stopped = false;
  private loop: Promise<void> | undefined;
  readonly counts = { batches: 0, delivered: 0, failedBatches: 0, deadLettered: 0 };

  constructor(private readonly o: MnsSourceOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async receive(max: number, waitSeconds: number): Promise<Received[]> {
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
      try {
        const batch: Received[] = [];
        const deadline = Date.now() + this.o.timeWindowSeconds * 1000;
        // Fill the window: stop at CountBasedWindow messages or when TimeBasedWindow runs out.
        while (!this.stopped && batch.length < this.o.countWindow) {
          const left = deadline - Date.now();
          // MNS long-polls in whole seconds; an empty queue must not be polled in a tight loop. Once
          // the window is over, a push still carries what is already queued, up to the count.
          const wait = batch.length === 0 ? 1 : left > 0 ? Math.max(1, Math.min(30, Math.ceil(left / 1000))) : 0;
          // Once nothing is waited for, the rest of the window is asked for at once, 16 (MNS's limit) per call.
          const want = this.o.countWindow - batch.length;
          const calls = wait === 0 ? Math.ceil(want / 16) : 1;
          const got = (await Promise.all(Array.from({ length: calls }, (_, n) => this.receive(Math.min(16, want - n * 16), wait)))).flat();
          for (const m of got) {
            // A message whose visibility ran out while the window filled comes again: keep its newest handle only.
            const at = batch.findIndex((b) => b.MessageId === m.MessageId);
            if (at >= 0) batch[at] = m;
            else batch.push(m);
          }
          if (got.length === 0 && batch.length > 0 && Date.now() >= deadline) break;
        }
        if (batch.length > 0) await this.deliver(batch);
      } catch (e) {
        this.o.log(`[eventbridge] ${this.o.sourceName}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
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
    this.counts.batches++;
    // Messages delivered too often go to the dead-letter queue instead of the function again.
    const fresh: Received[] = [];
    for (const m of batch) {
      if (Number(m.DequeueCount) > this.o.maxRetryAttempts + 1 && this.o.deadLetterQueue) {
        await this.o.client.sendMessage(this.o.deadLetterQueue, { MessageBody: m.MessageBody });
        await this.o.client.deleteMessage(this.o.queueName, m.ReceiptHandle).catch(() => {});
        this.counts.deadLettered++;
      } else fresh.push(m);
    }
    if (fresh.length === 0) return;
    try {
      await this.o.target(fresh.map((m) => this.toEvent(m)));
    } catch (e) {
      this.counts.failedBatches++;
      this.o.log(`[eventbridge] ${this.o.sourceName}: batch of ${fresh.length} failed, left for redelivery: ${(e as Error).message}`);
      return;
    }
    this.counts.delivered += fresh.length;
    // A handle may have gone stale if the target ran past the visibility timeout; the message then comes again.
    // BatchDeleteMessage takes at most 16 receipt handles; a push may carry up to CountBasedWindow.
    const deletes: Promise<unknown>[] = [];
    for (let i = 0; i < fresh.length; i += 16) {
      const handles = fresh.slice(i, i + 16).map((m) => m.ReceiptHandle);
      deletes.push(this.o.client.batchDeleteMessage(this.o.queueName, handles).catch((e: unknown) => this.o.log(`[eventbridge] ${this.o.sourceName}: delete: ${(e as Error).message}`)));
    }
    await Promise.all(deletes);
  }
}
