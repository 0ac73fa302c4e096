/**
 * Stopping a run that may still be fanning out. Its InvokeIds reach the manifest only once dispatch
 * is done, and a run with maxConcurrency can hold instances back for a long while, so a stop cannot
 * rely on the manifest alone: it leaves a marker in the bucket, which dispatch watches (it sends
 * no further batch) and checks once more after recording its InvokeIds (it stops them itself).
 * Whichever of the two reads the other's write last does the stopping; with OSS's read-after-write
 * consistency one of them always does.
 */
import { runKeys } from '../runs/keys.ts';
import type { ObjectStore } from '../store/port.ts';

export async function requestStop(store: ObjectStore, runId: string, requestedAt = new Date()): Promise<void> {
  await store.put(runKeys.stopRequest(runId), requestedAt.toISOString(), { contentType: 'text/plain' });
}

export async function isStopRequested(store: ObjectStore, runId: string): Promise<boolean> {
  return (await store.get(runKeys.stopRequest(runId))) !== undefined;
}

/** An AbortSignal that fires once the run's stop marker appears; looks every `intervalMs`. */
export function watchStopRequest(store: ObjectStore, runId: string, intervalMs = 1000): { signal: AbortSignal; close(): void } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const look = async () => {
    // A failed look is tried again at the next interval; the check after dispatch is the backstop.
    if (await isStopRequested(store, runId).catch(() => false)) controller.abort();
    else if (!closed) timer = setTimeout(() => void look(), intervalMs);
  };
  timer = setTimeout(() => void look(), intervalMs);
  return {
    signal: controller.signal,
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
