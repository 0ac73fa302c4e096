/** Where events stop beating the poller, from the delay sweep's points (bench/events-vs-polling.ts). */
import { describe, expect, it } from 'vitest';
import { assumedDelayAt, breakEvenDelayMs } from '../../bench/events-vs-polling.ts';

const point = (delayMs: number, eventP50Ms: number, pollP50Ms = 2800) => ({ delayMs, eventP50Ms, pollP50Ms });

describe('breakEvenDelayMs', () => {
  it('interpolates linearly between the last point events win and the first they lose, in any order given', () => {
    // At 1 s events are 400 ms ahead, at 2 s 1,200 ms behind: equal a quarter of the way, 1,250 ms.
    expect(breakEvenDelayMs([point(2000, 4000), point(0, 40), point(1000, 2400), point(5000, 11000)])).toBe(1250);
  });

  it('is the first delay when events lose there already, and null when they win at every point', () => {
    expect(breakEvenDelayMs([point(0, 3000), point(1000, 5000)])).toBe(0);
    expect(breakEvenDelayMs([point(0, 40), point(5000, 2000)])).toBeNull();
    expect(breakEvenDelayMs([])).toBeNull();
  });

  it('counts a tie as the break-even', () => {
    expect(breakEvenDelayMs([point(0, 40), point(500, 2800)])).toBe(500);
  });
});

describe('assumedDelayAt', () => {
  it('is no delay at 0 and a lognormal with the delay as median and twice it as p95 otherwise', () => {
    expect(assumedDelayAt(0)).toEqual({ kind: 'fixed', ms: 0 });
    expect(assumedDelayAt(1000)).toEqual({ kind: 'lognormal', medianMs: 1000, p95Ms: 2000 });
  });
});
