/**
 * Carries out Expiration rules: every `everyMs` it deletes the objects an Enabled rule has expired
 * (lifecycle.ts). Real OSS also applies lifecycle rules asynchronously, not at the instant an
 * object expires, so a client must not count on an object being gone (or still there) right at
 * its expiry time. One sweep runs at a time; the next is scheduled when the last one ends.
 */
import { OssError } from './errors.ts';
import { expiringRule } from './lifecycle.ts';
import type { DiskObjectStore, ObjectRecord } from './store.ts';

export interface LifecycleSweepOptions {
  /** How long a lifecycle day lasts, in ms (86,400,000 in OSS; tests shorten it). */
  dayMs: number;
  /** Pause between the end of one sweep and the start of the next, in ms. */
  everyMs: number;
  log: (line: string) => void;
}

/** What a sweep needs of the store; a bucket may vanish between any two calls. */
export type SweptStore = Pick<DiskObjectStore, 'bucketNames' | 'bucketInfo' | 'sortedKeys' | 'head' | 'deleteIfUnchanged'>;

export interface LifecycleSweep {
  /** Stops scheduling sweeps and waits for the one under way, if any, to finish. */
  stop(): Promise<void>;
}

/** Starts sweeping `store` until {@link LifecycleSweep.stop}. */
export function startLifecycleSweep(store: SweptStore, options: LifecycleSweepOptions): LifecycleSweep {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = sweepOnce(store, Date.now(), options, () => stopped)
        .catch((e: unknown) => options.log(`[oss] lifecycle sweep failed: ${(e as Error).message}`))
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, options.everyMs);
    // The server keeps the process alive while it serves; a pending sweep alone must not.
    timer.unref();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * One pass over every bucket: deletes each object an Enabled Expiration rule has expired by `now`,
 * unless it was written again meanwhile; logs one line if it deleted anything. Resolves with the
 * number deleted. A bucket deleted during the pass is skipped.
 */
export async function sweepOnce(store: SweptStore, now: number, options: Pick<LifecycleSweepOptions, 'dayMs' | 'log'>, cancelled: () => boolean = () => false): Promise<number> {
  const deleted = new Map<string, number>();
  for (const bucket of store.bucketNames()) {
    if (cancelled()) break;
    try {
      for (const record of expiredObjects(store, bucket, now, options.dayMs)) {
        if (cancelled()) break;
        if (await store.deleteIfUnchanged(bucket, record)) deleted.set(bucket, (deleted.get(bucket) ?? 0) + 1);
      }
    } catch (e) {
      if (!(e instanceof OssError && e.code === 'NoSuchBucket')) throw e;
    }
  }
  const total = [...deleted.values()].reduce((a, b) => a + b, 0);
  if (total > 0) options.log(`[oss] lifecycle: expired ${total} object(s): ${[...deleted].map(([bucket, n]) => `${bucket} ${n}`).join(', ')}`);
  return total;
}

/** The objects of a bucket that have expired by `now`, found without waiting, so the key list cannot change under the walk. */
function expiredObjects(store: SweptStore, bucket: string, now: number, dayMs: number): ObjectRecord[] {
  const rules = store.bucketInfo(bucket)?.lifecycle;
  if (!rules?.some((rule) => rule.status === 'Enabled' && rule.expiration)) return [];
  const expired: ObjectRecord[] = [];
  for (const key of store.sortedKeys(bucket)) {
    const record = store.head(bucket, key);
    if (record && expiringRule(rules, key, record.lastModified, now, dayMs)) expired.push(record);
  }
  return expired;
}
