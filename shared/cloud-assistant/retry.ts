/**
 * Retries for ECS calls: exponential backoff with full jitter on throttling, ServiceUnavailable and
 * InternalError.Dispatch, honouring the service's retry-after hint; and on a connection reset
 * (ECONNRESET, "socket hang up"): the SDK keeps idle connections open with no time limit, so a
 * server that closed one just as a call was sent on it resets that call, and nothing was wrong with
 * it. Nothing else is retried: a validation error or a service that cannot be reached at all
 * (ECONNREFUSED) is returned to the caller at once.
 *
 * `ResourceBusy.SlrCreation` (seed 001: "The ServiceLinkedRole is still being created or has not
 * taken effect yet. Please try again later.") is retried too, on its own, slower schedule: creating
 * a RAM role takes seconds, not the milliseconds a throttled call waits, and half of each wait is
 * fixed so that a run of short random waits cannot use up the attempts before the role exists. How
 * long creation takes is not documented; the schedule is the library's choice, not a limit.
 *
 * Writes are safe to retry only because every write carries a ClientToken that stays the same
 * across attempts (see ecs-cloud-assistant.ts).
 */
import { ServiceCallError, toServiceCallError } from './errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** First wait for `ResourceBusy.SlrCreation`; doubles per attempt up to maxDelayMs, half of it fixed. */
  slrCreationBaseDelayMs: number;
  /** Milliseconds per unit of the `x-acs-retry-after` hint (its unit is unconfirmed: 1 = ms, 1000 = s). */
  retryAfterUnitMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Told of each retry, e.g. to count them; never given secrets. */
  onRetry?: (info: { action: string; attempt: number; delayMs: number; code: string }) => void;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
  slrCreationBaseDelayMs: 1000,
  retryAfterUnitMs: 1,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

const RETRYABLE_CODES = new Set(['ServiceUnavailable', 'InternalError.Dispatch', 'ResourceBusy.SlrCreation', 'ECONNRESET']);

export function isRetryable(error: ServiceCallError): boolean {
  return error.code.includes('Throttling') || RETRYABLE_CODES.has(error.code);
}

/** The wait before attempt `attempt + 1`: the service's hint when it gave one, else full jitter. */
export function retryDelayMs(error: ServiceCallError, attempt: number, policy: RetryPolicy): number {
  if (error.code === 'ResourceBusy.SlrCreation') {
    const ceiling = Math.min(policy.maxDelayMs, policy.slrCreationBaseDelayMs * 2 ** (attempt - 1));
    return ceiling / 2 + policy.random() * (ceiling / 2);
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jitter = policy.random() * ceiling;
  if (error.retryAfter !== undefined && error.retryAfter > 0) {
    // Wait at least as long as asked, plus a little jitter so throttled callers do not return in step.
    return Math.min(policy.maxDelayMs, error.retryAfter * policy.retryAfterUnitMs) + jitter * 0.1;
  }
  return jitter;
}

export async function withRetry<T>(action: string, call: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (raw) {
      const error = toServiceCallError(action, raw);
      if (!isRetryable(error) || attempt >= policy.maxAttempts) throw error;
      const delayMs = retryDelayMs(error, attempt, policy);
      policy.onRetry?.({ action, attempt, delayMs, code: error.code });
      await policy.sleep(delayMs);
    }
  }
}
