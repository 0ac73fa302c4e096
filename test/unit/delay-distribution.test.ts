import { describe, expect, it } from 'vitest';
import { delaySampler, describeDelay, NO_DELAY, parseDelay, type DelayDistribution } from '../../local/delay-distribution.ts';
import { seededRandom } from '../../local/seeded-random.ts';

function draws(d: DelayDistribution, n: number, seed = 7): number[] {
  const sample = delaySampler(d, seededRandom(seed));
  return Array.from({ length: n }, sample).sort((a, b) => a - b);
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

describe('Function: parseDelay', () => {
  it.each<[string, DelayDistribution]>([
    ['0', { kind: 'fixed', ms: 0 }],
    ['500ms', { kind: 'fixed', ms: 500 }],
    ['1s', { kind: 'fixed', ms: 1000 }],
    ['1.5s', { kind: 'fixed', ms: 1500 }],
    ['fixed:2s', { kind: 'fixed', ms: 2000 }],
    ['uniform:0.5s-2s', { kind: 'uniform', minMs: 500, maxMs: 2000 }],
    ['uniform:0-250ms', { kind: 'uniform', minMs: 0, maxMs: 250 }],
    ['lognormal:1s,p95=3s', { kind: 'lognormal', medianMs: 1000, p95Ms: 3000 }],
    [' lognormal:200ms, p95=1s ', { kind: 'lognormal', medianMs: 200, p95Ms: 1000 }],
  ])('reads %j', (text, expected) => {
    expect(parseDelay(text)).toEqual(expected);
  });

  it.each([
    ['', /write a duration/],
    ['5', /write a duration/],
    ['-1s', /write a duration/],
    ['1h', /write a duration/],
    ['uniform:2s-1s', /minimum is above its maximum/],
    ['uniform:1s', /uniform wants MIN-MAX/],
    ['lognormal:1s', /lognormal wants MEDIAN,p95=P95/],
    ['lognormal:1s,p95=0.5s', /p95 not below the median/],
    ['lognormal:0,p95=1s', /median must be above 0/],
    ['gamma:1s', /unknown kind "gamma"/],
    ['uniform:1x-2s', /"1x" is not a duration/],
  ])('refuses %j with a clear message', (text, message) => {
    expect(() => parseDelay(text)).toThrow(message);
  });
});

describe('Function: describeDelay', () => {
  it.each<DelayDistribution>([
    NO_DELAY,
    { kind: 'fixed', ms: 750 },
    { kind: 'fixed', ms: 5000 },
    { kind: 'fixed', ms: 0.5 },
    { kind: 'uniform', minMs: 500, maxMs: 2000 },
    { kind: 'uniform', minMs: 0, maxMs: 1250 },
    { kind: 'lognormal', medianMs: 1000, p95Ms: 3000 },
  ])('is read back by parseDelay as the same distribution: %j', (d) => {
    expect(parseDelay(describeDelay(d))).toEqual(d);
  });

  it('writes what the README and the benchmark show', () => {
    expect([NO_DELAY, { kind: 'fixed', ms: 500 }, { kind: 'uniform', minMs: 500, maxMs: 2000 }, { kind: 'lognormal', medianMs: 1000, p95Ms: 3000 }].map((d) => describeDelay(d as DelayDistribution))).toEqual([
      '0',
      '500ms',
      'uniform:500ms-2s',
      'lognormal:1s,p95=3s',
    ]);
  });
});

describe('Function: delaySampler', () => {
  it('draws a fixed delay exactly, every time', () => {
    expect(new Set(draws({ kind: 'fixed', ms: 1234 }, 100))).toEqual(new Set([1234]));
    expect(new Set(draws(NO_DELAY, 10))).toEqual(new Set([0]));
  });

  it('draws a uniform delay inside its bounds, centred on their middle', () => {
    const d = draws({ kind: 'uniform', minMs: 500, maxMs: 2000 }, 20_000);
    expect(d[0]).toBeGreaterThanOrEqual(500);
    expect(d.at(-1)).toBeLessThanOrEqual(2000);
    expect(quantile(d, 0.5)).toBeGreaterThan(1250 * 0.97);
    expect(quantile(d, 0.5)).toBeLessThan(1250 * 1.03);
  });

  it('draws a lognormal delay with the median and 95th percentile asked for (seeded: within 5 %)', () => {
    const d = draws({ kind: 'lognormal', medianMs: 1000, p95Ms: 3000 }, 20_000);
    expect(d[0]).toBeGreaterThanOrEqual(0);
    expect(quantile(d, 0.5)).toBeGreaterThan(950);
    expect(quantile(d, 0.5)).toBeLessThan(1050);
    expect(quantile(d, 0.95)).toBeGreaterThan(2850);
    expect(quantile(d, 0.95)).toBeLessThan(3150);
    // The long tail: some draws beyond the p95, well past the median.
    expect(d.at(-1)).toBeGreaterThan(3000);
  });

  it('gives the same draws for the same seed, other draws for another', () => {
    const d = { kind: 'lognormal', medianMs: 100, p95Ms: 400 } as const;
    expect(draws(d, 50, 3)).toEqual(draws(d, 50, 3));
    expect(draws(d, 50, 3)).not.toEqual(draws(d, 50, 4));
  });

  it('refuses a distribution built by hand that makes no sense', () => {
    expect(() => delaySampler({ kind: 'fixed', ms: -5 }, Math.random)).toThrow(/not a delay distribution/);
    expect(() => delaySampler({ kind: 'uniform', minMs: 3, maxMs: 1 }, Math.random)).toThrow(/minMs must not exceed maxMs/);
  });
});
