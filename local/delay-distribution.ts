/**
 * Delays the real cloud has but documents nowhere (docs/platform-facts.md §5.6): how long
 * EventBridge takes to hand an event on, event streaming a queued message, Cloud Assistant an
 * output object. None is a single number in life, so the local cloud draws each from a
 * distribution: fixed, uniform, or lognormal (a median and a 95th percentile: the shape network
 * and queueing latencies usually have, with a long right tail).
 */
import { z } from 'zod';

export type DelayDistribution = { kind: 'fixed'; ms: number } | { kind: 'uniform'; minMs: number; maxMs: number } | { kind: 'lognormal'; medianMs: number; p95Ms: number };

export const NO_DELAY: DelayDistribution = { kind: 'fixed', ms: 0 };

/** The standard normal's 95th percentile: p95 = median · e^(σ · Z95). */
const Z95 = 1.6448536269514722;

const ms = z.number().finite().nonnegative();
const distributionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fixed'), ms }),
  z.object({ kind: z.literal('uniform'), minMs: ms, maxMs: ms }).refine((d) => d.minMs <= d.maxMs, 'minMs must not exceed maxMs'),
  z.object({ kind: z.literal('lognormal'), medianMs: ms.positive(), p95Ms: ms }).refine((d) => d.p95Ms >= d.medianMs, 'p95Ms must not be below medianMs'),
]);

function checked(d: DelayDistribution): DelayDistribution {
  const parsed = distributionSchema.safeParse(d);
  if (!parsed.success) throw new Error(`not a delay distribution (${JSON.stringify(d)}): ${parsed.error.issues.map((i) => `${i.path.join('.') || i.code}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** A function drawing delays in ms (≥ 0) from `d`, with `random` (uniform in [0, 1)) as its only source of chance. */
export function delaySampler(d: DelayDistribution, random: () => number): () => number {
  const dist = checked(d);
  switch (dist.kind) {
    case 'fixed':
      return () => dist.ms;
    case 'uniform':
      return () => dist.minMs + random() * (dist.maxMs - dist.minMs);
    case 'lognormal': {
      const sigma = Math.log(dist.p95Ms / dist.medianMs) / Z95;
      // Box–Muller; 1 - random() is in (0, 1], so the logarithm is finite.
      return () => dist.medianMs * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
    }
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s)$/;

function duration(text: string, whole: string): number {
  const t = text.trim();
  if (t === '0') return 0;
  const m = DURATION.exec(t);
  if (!m) throw new Error(`delay "${whole}": "${t}" is not a duration (write 0, 500ms or 1.5s)`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

const FORMS = 'a duration (0, 500ms, 1s), uniform:MIN-MAX (uniform:0.5s-2s) or lognormal:MEDIAN,p95=P95 (lognormal:1s,p95=3s)';

/** "0", "500ms", "1s", "uniform:0.5s-2s", "lognormal:1s,p95=3s"; a clear Error on anything else. */
export function parseDelay(text: string): DelayDistribution {
  const whole = text.trim();
  const colon = whole.indexOf(':');
  if (colon < 0) {
    if (!DURATION.test(whole) && whole !== '0') throw new Error(`delay "${text}": write ${FORMS}`);
    return checkedText({ kind: 'fixed', ms: duration(whole, text) }, text);
  }
  const kind = whole.slice(0, colon);
  const rest = whole.slice(colon + 1);
  if (kind === 'fixed') return checkedText({ kind: 'fixed', ms: duration(rest, text) }, text);
  if (kind === 'uniform') {
    const parts = rest.split('-');
    if (parts.length !== 2) throw new Error(`delay "${text}": uniform wants MIN-MAX, e.g. uniform:0.5s-2s`);
    return checkedText({ kind: 'uniform', minMs: duration(parts[0]!, text), maxMs: duration(parts[1]!, text) }, text);
  }
  if (kind === 'lognormal') {
    const m = /^([^,]+),\s*p95=(.+)$/.exec(rest);
    if (!m) throw new Error(`delay "${text}": lognormal wants MEDIAN,p95=P95, e.g. lognormal:1s,p95=3s`);
    return checkedText({ kind: 'lognormal', medianMs: duration(m[1]!, text), p95Ms: duration(m[2]!, text) }, text);
  }
  throw new Error(`delay "${text}": unknown kind "${kind}"; write ${FORMS}`);
}

function checkedText(d: DelayDistribution, text: string): DelayDistribution {
  try {
    return checked(d);
  } catch {
    const why = d.kind === 'uniform' ? 'its minimum is above its maximum' : d.kind === 'lognormal' ? 'its median must be above 0 and its p95 not below the median' : 'it is not a duration';
    throw new Error(`delay "${text}": ${why}`);
  }
}

function formatMs(value: number): string {
  if (value === 0) return '0';
  return value % 1000 === 0 ? `${value / 1000}s` : `${value}ms`;
}

/** The text parseDelay reads back as `d`: for logs and benchmark output. */
export function describeDelay(d: DelayDistribution): string {
  switch (d.kind) {
    case 'fixed':
      return formatMs(d.ms);
    case 'uniform':
      return `uniform:${formatMs(d.minMs)}-${formatMs(d.maxMs)}`;
    case 'lognormal':
      return `lognormal:${formatMs(d.medianMs)},p95=${formatMs(d.p95Ms)}`;
  }
}
