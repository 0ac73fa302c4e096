/**
 * Sends from many concurrent invocations of one warm instance share messages and BatchSendMessage
 * calls: results that arrive within a few milliseconds of each other go out together (the inner
 * queue packs them into messages and requests within MNS's limits), and each caller resolves once
 * its own results were accepted, so nothing is acknowledged before MNS has it. A burst of events
 * costs one message per ~48 KB of results, not one each.
 */
import type { ResultQueue } from './port.ts';
import type { ResultJson } from './result-packing.ts';

interface Waiting {
  results: ResultJson[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class CoalescingQueue implements ResultQueue {
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inner: ResultQueue,
    private readonly windowMs = 5,
  ) {}

  send(results: ResultJson[]): Promise<void> {
    if (results.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ results, resolve, reject });
      this.timer ??= setTimeout(() => void this.flush(), this.windowMs);
    });
  }

  private async flush(): Promise<void> {
    const waiting = this.waiting;
    this.waiting = [];
    this.timer = undefined;
    try {
      await this.inner.send(waiting.flatMap((w) => w.results));
      for (const w of waiting) w.resolve();
    } catch (e) {
      // Which message failed is not known here (and one may hold several callers' results): every
      // caller fails, and its event is delivered again — a duplicate result is harmless downstream.
      for (const w of waiting) w.reject(e);
    }
  }
}
