/**
 * The cost model's arithmetic (bench/cost/cost-model.ts) and its inputs' rules: a function's billed
 * size from s.yaml props, FC 3.0's CU conversion with whole-CU rounding and the hourly minimum, and
 * the per-request services, all against prices.ts.
 */
import { describe, expect, it } from 'vitest';
import { pathCost, type FunctionUse, type PathUnits } from '../../bench/cost/cost-model.ts';
import { functionSize } from '../../bench/cost/function-size.ts';
import { PRICES, pricesSchema } from '../../bench/cost/prices.ts';

const CU = 0.00011;

function use(over: Partial<FunctionUse> = {}): FunctionUse {
  return { name: 'f', size: { memoryMb: 512, vcpu: 0.35, vcpuFrom: 's.yaml' }, invocations: 0, activeSeconds: 0, idleSeconds: 0, paysHourlyMinimum: false, ...over };
}

function units(over: Partial<PathUnits> = {}): PathUnits {
  return { functions: [], systemBusEvents: 0, eventStreamEvents: 0, mnsRequests: 0, mnsStreamRequests: 0, ossPut: 0, ossGet: 0, ecsCalls: {}, ...over };
}

describe('functionSize', () => {
  it('reads memorySize and cpu from the props', () => {
    expect(functionSize({ memorySize: 1024, cpu: 0.5 })).toEqual({ memoryMb: 1024, vcpu: 0.5, vcpuFrom: 's.yaml' });
  });

  it('gives 512 MB without cpu or diskSize the 0.35 vCPU the fc3 component deploys, and 512 MB when memorySize is absent', () => {
    expect(functionSize({ memorySize: 512 })).toEqual({ memoryMb: 512, vcpu: 0.35, vcpuFrom: 'fc3 default for 512 MB' });
    expect(functionSize({})).toEqual({ memoryMb: 512, vcpu: 0.35, vcpuFrom: 'fc3 default for 512 MB' });
  });

  it('takes 1 vCPU per GB, the most FC allows, for any other size without cpu', () => {
    expect(functionSize({ memorySize: 256 })).toEqual({ memoryMb: 256, vcpu: 0.25, vcpuFrom: 'assumed 1 vCPU per GB' });
    expect(functionSize({ memorySize: 512, diskSize: 10240 })).toEqual({ memoryMb: 512, vcpu: 0.5, vcpuFrom: 'assumed 1 vCPU per GB' });
  });

  it('refuses a size that is not a number', () => {
    expect(() => functionSize({ memorySize: 'lots' })).toThrow();
  });
});

describe('pathCost: Function Compute', () => {
  it('converts invocations, active vCPU and memory to CU and bills the hour in whole CU', () => {
    // 10,000 × 0.0075 = 75 CU; 100 s × 0.35 vCPU = 35 CU; 100 s × 0.5 GB × 0.15 = 7.5 CU; 117.5 → 118 CU.
    const cost = pathCost(units({ functions: [use({ invocations: 10_000, activeSeconds: 100 })] }));
    expect(cost.cuByFunction).toEqual({ f: 118 });
    expect(cost.totalCny).toBeCloseTo(118 * CU, 12);
    const byLine = Object.fromEntries(cost.lines.map((l) => [l.line, l]));
    expect(byLine['FC f: invocations']!.cny).toBeCloseTo(75 * CU, 12);
    expect(byLine['FC f: active vCPU (0.35 vCPU)']!.units).toBeCloseTo(35, 9);
    expect(byLine['FC f: memory while active (512 MB)']!.units).toBeCloseTo(50, 9);
    expect(byLine["FC f: hour's CU rounded up"]!.units).toBeCloseTo(0.5, 9);
  });

  it('bills a kept instance its memory and no vCPU', () => {
    const cost = pathCost(units({ functions: [use({ invocations: 1, activeSeconds: 0, idleSeconds: 60 })] }));
    const kept = cost.lines.filter((l) => l.line.includes('kept after last request'));
    expect(kept.map((l) => [l.unit, l.units, l.cny])).toEqual([
      ['vCPU·s', 60 * 0.35, 0],
      ['GB·s', 30, 30 * 0.15 * CU],
    ]);
  });

  it('tops a function up to the hourly minimum only when the path is what calls it that hour', () => {
    const small = use({ invocations: 5, activeSeconds: 1 });
    expect(pathCost(units({ functions: [{ ...small, paysHourlyMinimum: true }] })).totalCny).toBeCloseTo(0.01, 12);
    expect(pathCost(units({ functions: [small] })).totalCny).toBeCloseTo(1 * CU, 12);
    // A function that costs more than the minimum pays what it costs.
    const big = use({ invocations: 10, activeSeconds: 300, paysHourlyMinimum: true });
    expect(pathCost(units({ functions: [big] })).lines.some((l) => l.line.includes('hourly minimum'))).toBe(false);
  });

  it('charges nothing for a function that was not called', () => {
    expect(pathCost(units({ functions: [use({ paysHourlyMinimum: true })] }))).toEqual({ lines: [], cuByFunction: { f: 0 }, totalCny: 0 });
  });
});

describe('pathCost: the other services', () => {
  it('prices events, messages and requests per their units and lists free ECS calls at zero', () => {
    const cost = pathCost(units({ systemBusEvents: 10_000, eventStreamEvents: 1_000_000, mnsRequests: 1_000_000, mnsStreamRequests: 500_000, ossPut: 10_000, ossGet: 20_000, ecsCalls: { RunCommand: 100, DescribeInvocations: 6000 } }));
    const cny = Object.fromEntries(cost.lines.map((l) => [l.line, l.cny]));
    expect(cny['EventBridge: TaskCompleted on the system bus']).toBe(0);
    expect(cny['EventBridge: pushed to Function Compute']).toBe(0);
    expect(cny['EventBridge: event-stream events (MNS → summarize)']).toBeCloseTo(0.41 * 7.1, 9);
    expect(cny['MNS: sends (functions)']).toBeCloseTo(2, 9);
    expect(cny['MNS: receives and deletes (event stream)']).toBeCloseTo(1, 9);
    expect(cny['OSS: PUT-type requests']).toBeCloseTo(0.01, 12);
    expect(cny['OSS: GET-type requests']).toBeCloseTo(0.02, 12);
    expect([cny['ECS: DescribeInvocations'], cny['ECS: RunCommand']]).toEqual([0, 0]);
    expect(cost.totalCny).toBeCloseTo(0.41 * 7.1 + 3 + 0.03, 9);
  });

  it('grows with every unit', () => {
    const base = units({ functions: [use({ invocations: 100, activeSeconds: 10 })], ossPut: 100, mnsRequests: 100, eventStreamEvents: 100 });
    const more: PathUnits[] = [
      { ...base, functions: [use({ invocations: 100_000, activeSeconds: 10 })] },
      { ...base, functions: [use({ invocations: 100, activeSeconds: 1000 })] },
      { ...base, ossPut: 100_000 },
      { ...base, ossGet: 100_000 },
      { ...base, mnsRequests: 1_000_000 },
      { ...base, mnsStreamRequests: 1_000_000 },
      { ...base, eventStreamEvents: 1_000_000 },
    ];
    for (const m of more) expect(pathCost(m).totalCny).toBeGreaterThan(pathCost(base).totalCny);
  });
});

describe('prices', () => {
  it('parse against their schema, and every one names its source and the day it was read', () => {
    expect(() => pricesSchema.parse(PRICES)).not.toThrow();
    const entries = [PRICES.fc.cu, PRICES.eventBridge.systemBusEvent, PRICES.eventBridge.eventStreamEvent, PRICES.mns.request, PRICES.oss.put, PRICES.oss.get, PRICES.ecs.cloudAssistantCall];
    for (const p of entries) {
      expect(p.source).toMatch(/^https:\/\//);
      expect(p.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    expect(PRICES.ecs.rateLimitPerSecond.value).toBeUndefined();
  });
});
