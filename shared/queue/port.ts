/** The ResultQueue port: where task-events, the result fetcher and the reconciler put per-instance results for summarize. */
import type { ResultJson } from './result-packing.ts';

export interface ResultQueue {
  /**
   * Sends these results, packed into as few messages as MNS's size limit allows (result-packing.ts),
   * sent in as few requests as its batch limits allow; resolves once MNS accepted every one.
   */
  send(results: ResultJson[]): Promise<void>;
}

/** MNS limits for one BatchSendMessage: 16 messages, 64 KB of bodies (docs/platform-facts.md §8.3). */
export const MNS_BATCH_LIMITS = { messages: 16, bytes: 64 * 1024 } as const;

export class QueueError extends Error {
  override readonly name = 'QueueError';
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Groups message bodies into BatchSendMessage requests of ≤16 messages and ≤64 KB; a single body over 64 KB is refused. */
export function packBatches(bodies: string[], limits: { messages: number; bytes: number } = MNS_BATCH_LIMITS): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const body of bodies) {
    const bytes = Buffer.byteLength(body);
    if (bytes > limits.bytes) throw new QueueError(`a message of ${bytes} bytes is over the ${limits.bytes}-byte limit`, 'MessageTooLarge');
    if (current.length === limits.messages || size + bytes > limits.bytes) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(body);
    size += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
