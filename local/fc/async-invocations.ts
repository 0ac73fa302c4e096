/**
 * The record of asynchronous invocations the local InvokeFunction API accepted: each one's state
 * (accepted → started → succeeded | failed), its attempts and its last error. FC keeps such a
 * record too (its async task list); here it is what tests wait on instead of sleeping.
 */
export type AsyncInvocationStatus = 'accepted' | 'started' | 'succeeded' | 'failed';

export interface AsyncInvocationRecord {
  /** The `x-fc-request-id` the 202 carried. */
  requestId: string;
  functionName: string;
  /** The service named in an FC 2.0 API path; '' for the FC 3.0 API (functions have no service). */
  service: string;
  qualifier?: string;
  status: AsyncInvocationStatus;
  /** Runs so far; at most 1 + maxRetries. */
  attempts: number;
  maxRetries: number;
  payloadBytes: number;
  acceptedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** The last attempt's failure. */
  error?: { kind: string; message: string };
}

export class AsyncInvocationLog {
  private readonly records = new Map<string, AsyncInvocationRecord>();
  private readonly listeners = new Set<() => void>();

  /** Every record, oldest first. */
  list(): AsyncInvocationRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  get(requestId: string): AsyncInvocationRecord | undefined {
    const r = this.records.get(requestId);
    return r ? { ...r } : undefined;
  }

  /** Adds a record or changes one; waiters look again. */
  put(record: AsyncInvocationRecord): void {
    this.records.set(record.requestId, { ...record });
    for (const l of [...this.listeners]) l();
  }

  /** Resolves with the record once it succeeded or failed (retries included); rejects after timeoutMs. */
  settled(requestId: string, timeoutMs = 30_000): Promise<AsyncInvocationRecord> {
    return this.waitUntil(() => {
      const r = this.records.get(requestId);
      return r && (r.status === 'succeeded' || r.status === 'failed') ? { ...r } : undefined;
    }, timeoutMs, `async invocation ${requestId} did not settle`);
  }

  /** Resolves once no accepted invocation is still waiting or running. */
  idle(timeoutMs = 30_000): Promise<void> {
    return this.waitUntil(() => ([...this.records.values()].some((r) => r.status === 'accepted' || r.status === 'started') ? undefined : true), timeoutMs, 'async invocations still running').then(() => undefined);
  }

  private waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const listener = () => {
        const v = check();
        if (v === undefined) return;
        cleanup();
        resolve(v);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
    });
  }
}
