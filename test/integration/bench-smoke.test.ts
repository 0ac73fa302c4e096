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
    // Every function: each bundle must load with what its own schema requires (bench/coldstart.ts ENV).
    const r = await benchColdStart(ROOT, path.join(ROOT, 'dist'), 1, ['summarize', 'chatops', 'dispatch', 'task-events', 'schedule']);
    expect(r.unusedSdkBundles).toBe(0);
    // summarize sends a concurrency-limited run's next waves (shared/pipeline/fan-out.ts): the ECS SDK
    // travels beside its bundle, loaded with the first wave it sends, not at cold start.
    expect(r.sdksInBundle.summarize).toEqual(['@alicloud/ecs20140526', 'ali-oss']);
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

describe('output groups benchmark smoke', () => {
  it('folds a small mixed run three ways: every output its own group when exact, three when masked', async () => {
    const { benchOutputGroups, describeOutputGroups } = await import('../../bench/output-groups.ts');
    const r = benchOutputGroups(400);
    expect([r.exact.groups, r.masked.groups]).toEqual([400, 3]);
    for (const way of [r.summary, r.exact, r.masked]) expect(way.usPerResult).toBeGreaterThan(0);
    expect(describeOutputGroups(r)).toContain('masked ÷ summary');
  }, 60_000);
});

describe('events vs polling smoke', () => {
  it('runs one small fleet three ways; the OSS path reads nothing and every way ends in the same exact summary', async () => {
    const { benchEventsVsPolling } = await import('../../bench/events-vs-polling.ts');
    const r = await benchEventsVsPolling({ instances: 10, minSeconds: 5, maxSeconds: 40, failRate: 0.1, timeScale: 20, pollSeconds: 5, seed: 3, warmInstances: 1 });
    expect(r.eventReadCalls).toBe(0);
    // The window the figures were measured with, as the local cloud read it from s.yaml.
    expect(typeof r.batchWindow?.CountBasedWindow).toBe('number');
    for (const mode of [r.oss, r.fetch, r.poll]) expect(mode.summary).toEqual({ total: 10, failed: 1, succeeded: 9 });
    expect(r.poll.readCalls).toBeGreaterThan(0);
    expect(r.fetch.readCalls).toBeGreaterThan(0);
    expect(r.oss.resultLatency.maxMs).toBeGreaterThanOrEqual(r.oss.resultLatency.p50Ms);
  }, 90_000);
});

describe('events vs polling at assumed delays smoke', () => {
  it('sweeps two assumed delays: the OSS path reads nothing at either, both ways end in the same exact summary, a break-even is found or not', async () => {
    const { sweepDelays } = await import('../../bench/events-vs-polling.ts');
    const r = await sweepDelays({ instances: 6, minSeconds: 5, maxSeconds: 20, failRate: 0.2, timeScale: 20, pollSeconds: 5, seed: 3, warmInstances: 1 }, [0, 300]);
    expect(r.points.map((p) => [p.delayMs, p.distribution])).toEqual([[0, '0'], [300, 'lognormal:300ms,p95=600ms']]);
    for (const p of r.points) {
      expect(p.eventReadCalls).toBe(0);
      expect(p.pollReadCalls).toBeGreaterThan(0);
      expect(p.summaries.events).toEqual({ total: 6, failed: 1, succeeded: 5 });
      expect(p.summaries.poll).toEqual(p.summaries.events);
      expect(p.p50LatencyRatio).toBe(p.pollLatency.p50Ms / p.eventLatency.p50Ms);
    }
    expect(r.breakEvenDelayMs === null || (r.breakEvenDelayMs >= 0 && r.breakEvenDelayMs <= 300)).toBe(true);
  }, 180_000);
});

describe('pipeline benchmark smoke', () => {
  it('takes a burst of events through the deployed bundles to one exact summary and reports CPU per event', async () => {
    const { buildFunctions } = await import('../../scripts/build.ts');
    await buildFunctions(path.join(ROOT, 'functions'), path.join(ROOT, 'dist'), path.join(ROOT, 'config'));
    const { benchPipeline } = await import('../../bench/pipeline.ts');
    const r = await benchPipeline(150);
    expect(r.summary).toEqual({ total: 150, succeeded: 150 });
    // s.yaml's batch window (100, no waiting): each dispatch call's instances end together and go as one push or a few.
    expect(r.taskEventsInvocations).toBeGreaterThanOrEqual(2);
    expect(r.taskEventsInvocations).toBeLessThan(150);
    expect(r.usPerEvent.taskEvents).toBeGreaterThan(0);
  }, 120_000);
});

describe('benchmark chart', () => {
  it('draws a met figure green and a missed one red, and the three latencies', async () => {
    const { renderChart } = await import('../../bench/chart.ts');
    const svg = renderChart(
      [
        { label: 'met', value: 20, target: 10, kind: 'min', unit: '×' },
        { label: 'missed', value: 12, target: 10, kind: 'max', unit: ' s' },
      ],
      [{ mode: '(a)', p50Ms: 40, p95Ms: 900, readCalls: 0 }],
      'smoke',
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/fill="#1f9d55"/g)).toHaveLength(1);
    expect(svg.match(/fill="#d64545"/g)).toHaveLength(1);
    expect(svg).toContain('p50 40.0 ms');
  });
});
