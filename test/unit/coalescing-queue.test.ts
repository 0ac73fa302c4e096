import { describe, expect, it } from 'vitest';
import { CoalescingQueue } from '../../shared/queue/coalescing-queue.ts';
import type { ResultQueue } from '../../shared/queue/port.ts';
import type { ResultJson } from '../../shared/queue/result-packing.ts';

/** The inner queue is the real contract's shape: it records what it was asked to send. */
function recording(): ResultQueue & { calls: string[][] } {
  const calls: string[][] = [];
  return { calls, send: async (results) => void calls.push(results) };
}

/** The queue passes results through unread: a letter stands for each here. */
const r = (...texts: string[]) => texts as ResultJson[];

describe('Class: CoalescingQueue', () => {
  it('sends results from concurrent callers in one call, and each caller resolves after it', async () => {
    const inner = recording();
    const q = new CoalescingQueue(inner, 5);
    await Promise.all([q.send(r('a')), q.send(r('b', 'c')), q.send([]), q.send(r('d'))]);
    expect(inner.calls).toEqual([['a', 'b', 'c', 'd']]);
    await q.send(r('e'));
    expect(inner.calls).toEqual([['a', 'b', 'c', 'd'], ['e']]);
  });

  it('fails every caller whose results were in a failed call', async () => {
    const inner: ResultQueue = { send: () => Promise.reject(new Error('MNS down')) };
    const q = new CoalescingQueue(inner, 5);
    const outcomes = await Promise.allSettled([q.send(r('a')), q.send(r('b'))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  });
});
