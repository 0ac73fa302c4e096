import { describe, expect, it } from 'vitest';
import { ServiceCallError } from '../../shared/cloud-assistant/errors.ts';
import { DEFAULT_RETRY_POLICY, isRetryable, retryDelayMs, withRetry, type RetryPolicy } from '../../shared/cloud-assistant/retry.ts';

const err = (code: string, retryAfter?: number) => new ServiceCallError('RunCommand', { code, message: code, retryAfter });

function policy(over: Partial<RetryPolicy> = {}): RetryPolicy & { slept: number[] } {
  const slept: number[] = [];
  return { ...DEFAULT_RETRY_POLICY, sleep: async (ms) => void slept.push(ms), random: () => 0.5, ...over, slept };
}

describe('Function: isRetryable', () => {
  it('retries throttling, ServiceUnavailable, InternalError.Dispatch, ResourceBusy.SlrCreation and a connection reset, and nothing else', () => {
    for (const code of ['Throttling', 'Throttling.User', 'Throttling.Api', 'ServiceUnavailable', 'InternalError.Dispatch', 'ResourceBusy.SlrCreation', 'ECONNRESET'])
      expect(isRetryable(err(code))).toBe(true);
    for (const code of [
      'InvalidInstance.NotFound',
      'SignatureDoesNotMatch',
      'ECONNREFUSED',
      'NetworkError',
      'IdempotentProcessing',
      'CreateServiceLinkedRole.NoPermission',
      'InvalidOssOutputDelivery.BucketNotFound',
    ])
      expect(isRetryable(err(code))).toBe(false);
  });
});

describe('Function: retryDelayMs', () => {
  it('grows exponentially under full jitter and is capped', () => {
    const p = policy({ random: () => 1, baseDelayMs: 100, maxDelayMs: 1000 });
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(err('ServiceUnavailable'), n, p))).toEqual([100, 200, 400, 800, 1000]);
    const low = policy({ random: () => 0 });
    expect(retryDelayMs(err('ServiceUnavailable'), 3, low)).toBe(0);
  });

  it('waits for a service-linked role on its own slower schedule, half of each wait fixed', () => {
    const low = policy({ random: () => 0, slrCreationBaseDelayMs: 1000, maxDelayMs: 10_000 });
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(err('ResourceBusy.SlrCreation'), n, low))).toEqual([500, 1000, 2000, 4000, 5000]);
    const high = policy({ random: () => 1, slrCreationBaseDelayMs: 1000, maxDelayMs: 10_000 });
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(err('ResourceBusy.SlrCreation'), n, high))).toEqual([1000, 2000, 4000, 8000, 10_000]);
    // With the default policy, even the shortest waits add up to more than 12 s before the last attempt.
    const shortest = [1, 2, 3, 4, 5].reduce((sum, n) => sum + retryDelayMs(err('ResourceBusy.SlrCreation'), n, policy({ random: () => 0 })), 0);
    expect(shortest).toBeGreaterThan(12_000);
  });

  it('waits at least the retry-after hint, in the configured unit', () => {
    const ms = policy({ random: () => 0, retryAfterUnitMs: 1 });
    expect(retryDelayMs(err('Throttling.User', 250), 1, ms)).toBe(250);
    const seconds = policy({ random: () => 1, retryAfterUnitMs: 1000, maxDelayMs: 60_000, baseDelayMs: 100 });
    const d = retryDelayMs(err('Throttling.User', 2), 1, seconds);
    expect(d).toBeGreaterThanOrEqual(2000);
    expect(d).toBeLessThan(2100);
  });
});

describe('Function: withRetry', () => {
  it('returns the first success after transient failures', async () => {
    const p = policy();
    let calls = 0;
    const value = await withRetry('RunCommand', async () => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('busy'), { code: 'ServiceUnavailable', statusCode: 503 });
      return 'ok';
    }, p);
    expect([value, calls, p.slept.length]).toEqual(['ok', 3, 2]);
  });

  it('throws a non-retryable error at once, translated', async () => {
    const p = policy();
    let calls = 0;
    await expect(
      withRetry('RunCommand', async () => {
        calls++;
        throw Object.assign(new Error('x'), { code: 'InvalidInstance.NotFound', statusCode: 404, requestId: 'r-1', data: { Message: 'no such instance' } });
      }, p),
    ).rejects.toMatchObject({ name: 'ServiceCallError', code: 'InvalidInstance.NotFound', httpStatus: 404, requestId: 'r-1', message: 'RunCommand failed: InvalidInstance.NotFound: no such instance' });
    expect(calls).toBe(1);
  });

  it('rides out ResourceBusy.SlrCreation and keeps the call the same on every attempt', async () => {
    const p = policy();
    const seen: string[] = [];
    let calls = 0;
    const value = await withRetry('RunCommand', async () => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('slr'), { code: 'ResourceBusy.SlrCreation', statusCode: 400 });
      return 'started';
    }, { ...p, onRetry: ({ code }) => void seen.push(code) });
    expect([value, calls, seen]).toEqual(['started', 3, ['ResourceBusy.SlrCreation', 'ResourceBusy.SlrCreation']]);
    expect(p.slept).toEqual([750, 1500]);
  });

  it('stops after maxAttempts', async () => {
    const p = policy({ maxAttempts: 4 });
    let calls = 0;
    await expect(withRetry('DescribeInvocations', async () => {
      calls++;
      throw Object.assign(new Error('t'), { code: 'Throttling.User', retryAfter: 5 });
    }, p)).rejects.toMatchObject({ code: 'Throttling.User', retryAfter: 5 });
    expect(calls).toBe(4);
    expect(p.slept).toHaveLength(3);
  });
});
