/** The ResultQueue port on `@alicloud/mns`. */
import MNSClient from '@alicloud/mns';
import type { Credentials } from '../runtime/context.ts';
import { sentAgainAfterReset } from '../runtime/sent-again-after-reset.ts';
import { packBatches, QueueError, type ResultQueue } from './port.ts';
import { packResultMessages, type ResultJson } from './result-packing.ts';

export interface MnsQueueOptions {
  accountId: string;
  queueName: string;
  credentials: Credentials;
  /** With scheme, e.g. `https://<account>.mns.<region>-internal.aliyuncs.com` or the local `http://127.0.0.1:PORT`; the region's public endpoint over HTTPS when omitted. */
  endpoint?: string | undefined;
  region?: string | undefined;
}

/** The SDK names its errors `MNS<Code>Error` and carries no `.code` (docs/platform-facts.md §8.4). */
function mnsCode(e: unknown): string {
  const name = (e as { name?: string }).name ?? '';
  return /^MNS(.+)Error$/.exec(name)?.[1] ?? (e as { code?: string }).code ?? 'Unknown';
}

export class MnsResultQueue implements ResultQueue {
  private readonly client: MNSClient;

  constructor(private readonly options: MnsQueueOptions) {
    // The package is CommonJS; under native ESM its class is the default export itself.
    const Client = ((MNSClient as unknown as { default?: typeof MNSClient }).default ?? MNSClient) as typeof MNSClient;
    this.client = new Client(options.accountId, {
      accessKeyId: options.credentials.accessKeyId,
      accessKeySecret: options.credentials.accessKeySecret,
      ...(options.credentials.securityToken ? { securityToken: options.credentials.securityToken } : {}),
      // `secure`: the SDK speaks plain HTTP to a region's endpoint unless told (docs/platform-facts.md §8.4).
      ...(options.endpoint ? { endpoint: options.endpoint } : { region: options.region ?? 'cn-hangzhou', secure: true }),
    });
  }

  async send(results: ResultJson[]): Promise<void> {
    for (const batch of packBatches(packResultMessages(results))) {
      const res = await this.sendBatch(batch);
      // A non-XML error answer resolves quietly with its status instead of throwing.
      if (res.code !== 201) throw new QueueError(`BatchSendMessage to ${this.options.queueName} answered ${res.code}`, `HTTP${res.code}`);
    }
  }

  /**
   * One BatchSendMessage, sent once more after a connection reset (sent-again-after-reset.ts).
   * Should the first send have been taken after all, its messages arrive twice, which summarize
   * folds like any redelivery.
   */
  private async sendBatch(batch: string[]): Promise<{ code: number }> {
    try {
      return await sentAgainAfterReset(() => this.client.batchSendMessage(this.options.queueName, batch.map((MessageBody) => ({ MessageBody }))));
    } catch (e) {
      throw new QueueError(`BatchSendMessage to ${this.options.queueName} failed: ${(e as Error).message}`, mnsCode(e), { cause: e });
    }
  }
}
