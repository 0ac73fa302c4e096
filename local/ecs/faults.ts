/**
 * Fault injection for the local Cloud Assistant, by configuration: throttling with a retry-after
 * hint, 5xx answers (before or after a write was applied), connections closed without an answer,
 * added latency, and an API rate limit.
 */
import { z } from 'zod';
import { seededRandom as rng } from '../seeded-random.ts';

export const faultConfigSchema = z.object({
  /** Fraction of calls answered Throttling.User. */
  throttleRate: z.number().min(0).max(1).default(0),
  /** Fraction of calls answered ServiceUnavailable (503) without doing anything. */
  errorRate: z.number().min(0).max(1).default(0),
  /** Fraction of writes that are applied and then answered 503, as when a response is lost. */
  errorAfterApplyRate: z.number().min(0).max(1).default(0),
  /**
   * Fraction of calls whose connection is closed without an answer, before anything is done: what a
   * client sees (ECONNRESET, "socket hang up") when a server closes an idle keep-alive connection
   * just as the client sends on it.
   */
  resetRate: z.number().min(0).max(1).default(0),
  /** Added to every call, in ms; keep it under the SDK's 3 s default read timeout. */
  latencyMs: z.number().min(0).default(0),
  /** API calls per second over all actions; 0 = unlimited. Calls over it are throttled. */
  rateLimitPerSecond: z.number().min(0).default(0),
  /** The `x-acs-retry-after` hint sent with Throttling, in milliseconds (its unit is unconfirmed). */
  retryAfterMs: z.number().int().min(0).default(100),
  /** Seed for the random draws, so a faulty run can be repeated. */
  seed: z.number().int().default(1),
});
export type FaultConfig = z.output<typeof faultConfigSchema>;
export type FaultConfigInput = z.input<typeof faultConfigSchema>;

export type FaultDecision = 'none' | 'throttle' | 'error' | 'error-after-apply' | 'reset';

export class FaultInjector {
  private config: FaultConfig;
  private random: () => number;
  private tokens: number;
  private lastRefill = Date.now();
  readonly counts = { calls: 0, throttled: 0, errors: 0, errorsAfterApply: 0, resets: 0, rateLimited: 0 };

  constructor(config: FaultConfigInput = {}) {
    this.config = faultConfigSchema.parse(config);
    this.random = rng(this.config.seed);
    this.tokens = this.config.rateLimitPerSecond;
  }

  get settings(): FaultConfig {
    return this.config;
  }

  /** Changes the faults while running (tests and the control endpoint use it). */
  configure(config: FaultConfigInput): void {
    this.config = faultConfigSchema.parse({ ...this.config, ...config });
    this.random = rng(this.config.seed);
    this.tokens = Math.min(this.tokens, this.config.rateLimitPerSecond);
  }

  /** Decides the fate of one call. */
  decide(isWrite: boolean): FaultDecision {
    this.counts.calls++;
    if (!this.takeToken()) {
      this.counts.rateLimited++;
      return 'throttle';
    }
    const r = this.random();
    const c = this.config;
    if (r < c.throttleRate) {
      this.counts.throttled++;
      return 'throttle';
    }
    if (r < c.throttleRate + c.errorRate) {
      this.counts.errors++;
      return 'error';
    }
    const afterApply = isWrite ? c.errorAfterApplyRate : 0;
    if (r < c.throttleRate + c.errorRate + afterApply) {
      this.counts.errorsAfterApply++;
      return 'error-after-apply';
    }
    // Last, so that the draws of the faults above are the same with or without resets.
    if (r < c.throttleRate + c.errorRate + afterApply + c.resetRate) {
      this.counts.resets++;
      return 'reset';
    }
    return 'none';
  }

  /**
   * Withdraws an `error-after-apply` decision for a call that applied nothing (a ClientToken
   * replay): a lost response can only follow a write that happened, and a retry must be able to
   * get the first call's answer even at `errorAfterApplyRate: 1`.
   */
  withdraw(decision: FaultDecision): void {
    if (decision === 'error-after-apply') this.counts.errorsAfterApply--;
  }

  private takeToken(): boolean {
    const rate = this.config.rateLimitPerSecond;
    if (rate <= 0) return true;
    const now = Date.now();
    // A bucket of one second's worth of calls, refilled continuously.
    this.tokens = Math.min(rate, this.tokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
