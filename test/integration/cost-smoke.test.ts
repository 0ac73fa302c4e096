/**
 * A tiny version of the cost benchmark (bench/cost.ts), so it keeps working: both paths measured on
 * the local cloud at small sizes and priced. Its figures are checked by `npm run bench`; here only
 * what must hold whatever they are.
 */
import { describe, expect, it } from 'vitest';
import { benchCost } from '../../bench/cost.ts';

describe('cost benchmark smoke', () => {
  it('measures both paths and prices them: the event path reads no invocation from ECS, the baseline polls, both cost something', async () => {
    const printed: string[] = [];
    const r = await benchCost(
      { sampleSizes: [8, 24], functionsMode: 'source', pollingSample: { instances: 150, scriptMs: 600, pollMs: 100 }, timerFirings: 1 },
      (line) => printed.push(line),
    );
    const events = r.units.events;
    const polling = r.units.polling;

    // The event path never asks ECS how an invocation went; the baseline does nothing else.
    expect(events.ecsCalls.DescribeInvocations ?? 0).toBe(0);
    expect(events.ecsCalls.DescribeInvocationResults ?? 0).toBe(0);
    expect(polling.ecsCalls.DescribeInvocations).toBe(r.polling.invocations * r.polling.pollsPerInvocation * r.measured.polling.callsPerPollPerInvocation);
    expect(r.measured.polling.describeInvocationsCalls).toBeGreaterThan(0);
    // ⌈10,000 / 100⌉ commands sent; the event path sends one per sample here (both are under 100 instances).
    expect(polling.ecsCalls.RunCommand).toBe(100);
    for (const s of r.measured.eventSamples) expect(s.ecsCalls.RunCommand).toBe(1);

    // One TaskCompleted event and one output object per instance, at every size measured; result
    // messages (one event-stream event each) pack several results, and each send carries one or more.
    for (const s of r.measured.eventSamples) {
      expect([s.systemBusEvents, s.deliveredOutputs]).toEqual([s.instances, s.instances]);
      expect(s.eventStreamEvents).toBeLessThanOrEqual(s.instances);
      expect(s.eventStreamEvents).toBeGreaterThanOrEqual(s.requests.mns['BatchSendMessage fleetrun-results'] ?? Infinity);
      expect(s.functions['fleetrun-task-events']!.invocations).toBeGreaterThan(0);
      expect(s.functions['fleetrun-summarize']!.invocations).toBeGreaterThan(0);
    }
    // (The line through two samples this small may put 10,000 instances' messages anywhere near 10,000.)
    expect(events.systemBusEvents).toBe(10_000);
    expect(events.eventStreamEvents).toBeGreaterThan(0);
    expect(r.measured.reconcilerFirings).toHaveLength(2);

    expect(r.eventsCny10k).toBeGreaterThan(0);
    expect(r.pollingCny10k).toBeGreaterThan(0);
    expect(r.ratioVsPolling).toBeCloseTo(r.pollingCny10k / r.eventsCny10k, 12);
    const total = (lines: { cny: number }[]) => lines.reduce((sum, l) => sum + l.cny, 0);
    expect(total(r.lines.events)).toBeCloseTo(r.eventsCny10k, 12);
    expect(total(r.lines.polling)).toBeCloseTo(r.pollingCny10k, 12);
    // A poller per invocation is active a hundred times as long as one poller.
    expect(r.pollingOtherLayout.cny10k).toBeGreaterThan(r.pollingCny10k);
    expect(printed.join('\n')).toContain('polling ÷ events');
  }, 180_000);
});
