/** Tiny versions of the benchmarks, so they keep working; their figures are checked by `npm run bench`, not here. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchChatAck } from '../../bench/chat-ack.ts';
import { benchColdStart } from '../../bench/coldstart.ts';
import { benchFanout } from '../../bench/fanout.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('benchmark smoke', () => {
  it('fan-out dispatches every instance once under throttling', async () => {
    const r = await benchFanout(400, 50, 0.2);
    expect([r.duplicates, r.notDispatched]).toEqual([0, 0]);
    expect(r.calls).toBeGreaterThanOrEqual(4);
  }, 60_000);

  it('cold start measures bundles and finds no SDK a function does not call', async () => {
    const r = await benchColdStart(ROOT, path.join(ROOT, 'dist'), 1, ['summarize', 'chatops']);
    expect(r.unusedSdkBundles).toBe(0);
    expect(r.sdksInBundle.summarize).toEqual(['ali-oss']);
    expect(r.sdksInBundle.chatops).not.toContain('@alicloud/ecs20140526');
    expect(r.importMs.summarize!.bundled).toBeGreaterThan(0);
    // A fresh process answers a signed chat request from the built bundle.
    const ack = await benchChatAck(path.join(ROOT, 'dist', 'chatops'), 1);
    expect(ack.samplesMs).toHaveLength(1);
  }, 120_000);
});

describe('memory benchmark smoke', () => {
  it('folds a small run to completion in a child process and reports its peak', async () => {
    const { benchMemory } = await import('../../bench/memory.ts');
    const r = await benchMemory(20, 40);
    expect(r.small.peakRssBytes).toBeGreaterThan(0);
    expect(r.large.instances).toBe(40);
  }, 60_000);
});

describe('events vs polling smoke', () => {
  it('runs one small fleet three ways; the OSS path reads nothing and every way ends in the same exact summary', async () => {
    const { benchEventsVsPolling } = await import('../../bench/events-vs-polling.ts');
    const r = await benchEventsVsPolling({ instances: 10, minSeconds: 5, maxSeconds: 40, failRate: 0.1, timeScale: 20, pollSeconds: 5, seed: 3 });
    expect(r.eventReadCalls).toBe(0);
    for (const mode of [r.oss, r.fetch, r.poll]) expect(mode.summary).toEqual({ total: 10, failed: 1, succeeded: 9 });
    expect(r.poll.readCalls).toBeGreaterThan(0);
    expect(r.fetch.readCalls).toBeGreaterThan(0);
    expect(r.oss.resultLatency.maxMs).toBeGreaterThanOrEqual(r.oss.resultLatency.p50Ms);
  }, 90_000);
});
