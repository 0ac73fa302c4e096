/**
 * Sends from many concurrent invocations of one warm instance share BatchSendMessage calls: bodies
 * that arrive within a few milliseconds of each other go out together (the inner queue packs them
 * within MNS's limits), and each caller resolves once its own bodies were accepted, so nothing is
 * acknowledged before MNS has it. A burst of events costs one call per 16 messages, not one each.
 */
import type { ResultQueue } from './port.ts';

interface Waiting {
  bodies: string[];
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

  send(bodies: string[]): Promise<void> {
    if (bodies.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ bodies, resolve, reject });
      this.timer ??= setTimeout(() => void this.flush(), this.windowMs);
    });
  }

  private async flush(): Promise<void> {
    const waiting = this.waiting;
    this.waiting = [];
    this.timer = undefined;
    try {
      await this.inner.send(waiting.flatMap((w) => w.bodies));
      for (const w of waiting) w.resolve();
    } catch (e) {
      // Which of the batches failed is not known here: every caller fails, and its event is
      // delivered again — a duplicate result is harmless downstream.
      for (const w of waiting) w.reject(e);
    }
  }
}
