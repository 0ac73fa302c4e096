/**
 * A CompletionFeed read from the run's results in the bucket, so dispatch can keep SSM-style
 * maxConcurrency without a second event subscription: it looks at the results prefix (OSS, not
 * ECS) every so often and reports each instance that finished, once.
 */
import type { CompletionFeed } from '../cloud-assistant/dispatch.ts';
import { statusClass } from '../cloud-assistant/statuses.ts';
import { runKeys } from '../runs/keys.ts';
import { instanceResultSchema } from '../runs/result.ts';
import type { ObjectStore } from '../store/port.ts';

export function storeCompletionFeed(store: ObjectStore, runId: string, intervalMs = 1000): CompletionFeed {
  return {
    subscribe(listener) {
      const seen = new Set<string>();
      let stopped = false;
      const prefix = runKeys.resultsPrefix(runId);
      const look = async () => {
        for await (const o of store.list(prefix)) {
          const id = o.key.slice(prefix.length).replace(/\.json$/, '');
          if (seen.has(id)) continue;
          seen.add(id);
          const body = await store.get(o.key);
          const parsed = body ? instanceResultSchema.safeParse(JSON.parse(body.toString('utf8'))) : undefined;
          listener({ instanceId: id, failed: !parsed?.success || statusClass(parsed.data.status) !== 'success' });
        }
      };
      const loop = async () => {
        while (!stopped) {
          await look().catch(() => {});
          await new Promise((r) => setTimeout(r, intervalMs));
        }
      };
      void loop();
      return () => {
        stopped = true;
      };
    },
  };
}
