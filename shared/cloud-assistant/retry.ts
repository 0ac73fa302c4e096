/**
 * Retries for ECS calls: exponential backoff with full jitter on throttling, ServiceUnavailable and
 * InternalError.Dispatch, honouring the service's retry-after hint. Nothing else is retried: a
 * validation error or a network failure is returned to the caller at once.
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
  retryAfterUnitMs: 1,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

const RETRYABLE_CODES = new Set(['ServiceUnavailable', 'InternalError.Dispatch']);

export function isRetryable(error: ServiceCallError): boolean {
  return error.code.includes('Throttling') || RETRYABLE_CODES.has(error.code);
}

/** The wait before attempt `attempt + 1`: the service's hint when it gave one, else full jitter. */
export function retryDelayMs(error: ServiceCallError, attempt: number, policy: RetryPolicy): number {
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
