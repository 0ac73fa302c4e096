import { describe, expect, it } from 'vitest';
import { CoalescingQueue } from '../../shared/queue/coalescing-queue.ts';
import type { ResultQueue } from '../../shared/queue/port.ts';

/** The inner queue is the real contract's shape: it records what it was asked to send. */
function recording(): ResultQueue & { calls: string[][] } {
  const calls: string[][] = [];
  return { calls, send: async (bodies) => void calls.push(bodies) };
}

describe('Class: CoalescingQueue', () => {
  it('sends bodies from concurrent callers in one call, and each caller resolves after it', async () => {
    const inner = recording();
    const q = new CoalescingQueue(inner, 5);
    await Promise.all([q.send(['a']), q.send(['b', 'c']), q.send([]), q.send(['d'])]);
    expect(inner.calls).toEqual([['a', 'b', 'c', 'd']]);
    await q.send(['e']);
    expect(inner.calls).toEqual([['a', 'b', 'c', 'd'], ['e']]);
  });

  it('fails every caller whose bodies were in a failed call', async () => {
    const inner: ResultQueue = { send: () => Promise.reject(new Error('MNS down')) };
    const q = new CoalescingQueue(inner, 5);
    const outcomes = await Promise.allSettled([q.send(['a']), q.send(['b'])]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  });
});
