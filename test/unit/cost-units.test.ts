/**
 * From measurements to billable units (bench/cost/path-units.ts, request-log.ts): the request log
 * counted as OSS and MNS bill it, the event path extended along the line through two samples plus
 * the reconciler's per-minute firings, and the polling baseline's formula.
 */
import { describe, expect, it } from 'vitest';
import type { EventPathSample, ServiceSample } from '../../bench/cost/measure.ts';
import type { PollingSample } from '../../bench/cost/measure-polling.ts';
import { alongLine, eventPathUnits, pollingUnits } from '../../bench/cost/path-units.ts';
import { cloneCounts, countLine, countsBetween, emptyCounts, type RequestCounts } from '../../bench/cost/request-log.ts';

const SIZE = { memoryMb: 512, vcpu: 0.35, vcpuFrom: 'fc3 default for 512 MB' as const };
const SMALL = { memoryMb: 256, vcpu: 0.25, vcpuFrom: 'assumed 1 vCPU per GB' as const };
const SIZES = { 'fleetrun-task-events': SIZE, 'fleetrun-summarize': SIZE, 'fleetrun-dispatch': SIZE, 'fleetrun-schedule': SMALL };

describe('request log counts', () => {
  it('bills OSS requests answered 2xx/3xx as PUT- or GET-type, listings as PUT-type, and skips 4xx', () => {
    const c = emptyCounts();
    for (const line of [
      '[oss] PutObject fleetrun-runs/runs/r-1/results/i-1.json 200 3ms',
      '[oss] PutObject fleetrun-runs/runs/r-1/results/i-1.json 409 FileAlreadyExists 2ms',
      '[oss] ListObjectsV2 fleetrun-output/ 200 1ms',
      '[oss] GetObject fleetrun-output/x/i-1/1.log 200 1ms',
      '[oss] GetObject fleetrun-runs/runs/r-1/summary.json 404 NoSuchKey 1ms',
      '[oss] HeadObject fleetrun-runs/a 304 1ms',
      '[oss] DeleteObject fleetrun-runs/a 204 1ms',
      '[fc] something else',
    ])
      countLine(c, line);
    expect([c.ossPut, c.ossGet]).toEqual([3, 2]);
    expect(c.oss).toEqual({ 'PutObject fleetrun-runs': 1, 'ListObjectsV2 fleetrun-output': 1, 'GetObject fleetrun-output': 1, 'HeadObject fleetrun-runs': 1, 'DeleteObject fleetrun-runs': 1 });
  });

  it('bills every MNS request, the functions\' sends apart from the event stream\'s receives and deletes, and sets apart receives that found the queue empty', () => {
    const c = emptyCounts();
    for (const line of [
      '[mns] BatchSendMessage fleetrun-results 201 4ms',
      '[mns] BatchReceiveMessage fleetrun-results 200 2ms',
      '[mns] BatchReceiveMessage fleetrun-results 404 MessageNotExist 1000ms',
      '[mns] BatchDeleteMessage fleetrun-results 204 1ms',
      '[mns] BatchSendMessage fleetrun-results 403 AccessDenied 1ms',
    ])
      countLine(c, line);
    expect([c.mnsRequests, c.mnsStreamRequests, c.mnsEmptyReceives]).toEqual([2, 2, 1]);
  });

  it('takes the difference of two snapshots', () => {
    const a = emptyCounts();
    countLine(a, '[oss] PutObject b/k 200 1ms');
    const before = cloneCounts(a);
    countLine(a, '[oss] PutObject b/k 200 1ms');
    countLine(a, '[mns] SendMessage q 201 1ms');
    const d: RequestCounts = countsBetween(before, a);
    expect(d).toEqual({ oss: { 'PutObject b': 1 }, ossPut: 1, ossGet: 0, mns: { 'SendMessage q': 1 }, mnsRequests: 1, mnsStreamRequests: 0, mnsEmptyReceives: 0 });
  });
});

function sample(instances: number, over: Partial<EventPathSample> = {}): EventPathSample {
  return {
    instances,
    functions: {
      'fleetrun-task-events': { invocations: instances, activeSeconds: instances * 0.02, instances: 4 },
      'fleetrun-summarize': { invocations: 2 + instances / 100, activeSeconds: 1 + instances * 0.001, instances: 1 },
    },
    requests: { oss: {}, ossPut: 10 + 2 * instances, ossGet: instances, mns: {}, mnsRequests: 5 + instances, mnsStreamRequests: 2 + instances / 50, mnsEmptyReceives: 40 },
    ecsCalls: { RunCommand: Math.ceil(instances / 100), DescribeInstances: 1 },
    dispatchSeconds: 0.1 + instances * 0.0001,
    systemBusEvents: instances,
    eventStreamEvents: instances,
    deliveredOutputs: instances,
    seconds: 5,
    ...over,
  };
}

const FIRING: ServiceSample = {
  functions: { 'fleetrun-schedule': { invocations: 1, activeSeconds: 0.2, instances: 1 } },
  requests: { oss: {}, ossPut: 4, ossGet: 1, mns: {}, mnsRequests: 0, mnsStreamRequests: 0, mnsEmptyReceives: 0 },
  ecsCalls: { DescribeInstances: 1 },
};

const SHAPE = { instances: 10_000, scriptSeconds: 300, keepAliveSeconds: 60, arrivalWindowSeconds: 60, timerPeriodSeconds: 60 };

describe('event path units', () => {
  it('extends each count along the line through two samples, never below zero', () => {
    expect(alongLine(500, 1010, 2000, 4010, 10_000)).toBe(20_010);
    expect(alongLine(500, 10, 2000, 5, 10_000)).toBe(0);
    expect(() => alongLine(500, 1, 500, 2, 10_000)).toThrow(/different sizes/);
  });

  it('gives 10,000 instances the line through the samples, plus ⌈T/60⌉ reconciler firings as measured', () => {
    const u = eventPathUnits({ samples: [sample(500), sample(2000)], firings: [FIRING, FIRING], sizes: SIZES, dispatchFunction: 'fleetrun-dispatch', shape: SHAPE });
    const fn = Object.fromEntries(u.functions.map((f) => [f.name, f]));
    expect(fn['fleetrun-task-events']).toMatchObject({ invocations: 10_000, paysHourlyMinimum: true });
    expect(fn['fleetrun-task-events']!.activeSeconds).toBeCloseTo(200, 9);
    // 200 busy seconds over a 60 s arrival window: 4 instances, each kept 60 s.
    expect(fn['fleetrun-task-events']!.idleSeconds).toBe(240);
    expect(fn['fleetrun-summarize']!.invocations).toBe(102);
    expect(fn['fleetrun-dispatch']).toMatchObject({ invocations: 1, idleSeconds: 60 });
    expect(fn['fleetrun-dispatch']!.activeSeconds).toBeCloseTo(1.1, 9);
    expect(fn['fleetrun-schedule (timer, 5 firings)']).toMatchObject({ invocations: 5, idleSeconds: 0, paysHourlyMinimum: false, size: SMALL });
    expect(fn['fleetrun-schedule (timer, 5 firings)']!.activeSeconds).toBeCloseTo(1, 9);
    expect(u).toMatchObject({ systemBusEvents: 10_000, eventStreamEvents: 10_000, mnsRequests: 10_005, mnsStreamRequests: 202, ossPut: 20_010 + 20, ossGet: 10_000 + 5 });
    expect(u.ecsCalls).toEqual({ RunCommand: 100, DescribeInstances: 1 + 5 });
  });

  it('refuses a function s.yaml gives no size for', () => {
    expect(() => eventPathUnits({ samples: [sample(500), sample(2000)], firings: [FIRING], sizes: {}, dispatchFunction: 'fleetrun-dispatch', shape: SHAPE })).toThrow(/no size for/);
  });
});

describe('polling baseline units', () => {
  const measured: PollingSample = { instances: 300, invocations: 3, polls: 21, describeInvocationsCalls: 21, callsPerPollPerInvocation: 1, runCommandSeconds: 0.05, scriptMs: 2000, pollMs: 250 };

  it('polls each of ⌈N/100⌉ invocations ⌊T/p⌋ + 1 times, one function active throughout', () => {
    const d = pollingUnits({ sample: measured, size: SIZE, shape: { instances: 10_000, scriptSeconds: 300, keepAliveSeconds: 60 }, pollSeconds: 5, layout: 'one function' });
    expect([d.invocations, d.pollsPerInvocation, d.describeInvocationsCalls, d.callsPerSecond]).toEqual([100, 61, 6100, 20]);
    expect(d.pollerActiveSeconds).toBeCloseTo(61 * 5 + 100 * 0.05, 9);
    expect(d.units.functions).toEqual([{ name: 'poller', size: SIZE, invocations: 1, activeSeconds: d.pollerActiveSeconds, idleSeconds: 60, paysHourlyMinimum: true }]);
    expect(d.units).toMatchObject({ ossPut: 3, ossGet: 0, mnsRequests: 0, mnsStreamRequests: 0, ecsCalls: { RunCommand: 100, DescribeInvocations: 6100 } });
  });

  it('multiplies the calls by the measured calls per poll, and the function time by the pollers', () => {
    const paged = { ...measured, callsPerPollPerInvocation: 2 };
    const d = pollingUnits({ sample: paged, size: SIZE, shape: { instances: 250, scriptSeconds: 60, keepAliveSeconds: 60 }, pollSeconds: 5, layout: 'one function per invocation' });
    expect([d.invocations, d.pollsPerInvocation, d.describeInvocationsCalls]).toEqual([3, 13, 78]);
    expect(d.units.functions[0]).toMatchObject({ name: 'poller ×3', invocations: 3, idleSeconds: 180 });
    expect(d.units.functions[0]!.activeSeconds).toBeCloseTo(3 * 65 + 3 * 0.05, 9);
  });
});
