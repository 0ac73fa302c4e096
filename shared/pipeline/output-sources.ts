/**
 * Where an instance's output comes from once its TaskCompleted event arrives (events carry none).
 * With an output bucket, runs are started with OssOutputDelivery and the output is read from OSS:
 * no ECS read at all. Without one, the service is asked (result-fetcher.ts).
 */
import type { ObjectStore } from '../store/port.ts';

/** The prefix a run's delivered outputs live under, inside the output bucket. */
export function outputPrefixFor(runId: string): string {
  return `fleetrun-output/${runId}/`;
}

/**
 * The service's key layout under the prefix is not documented, so nothing here assumes one: the
 * object that belongs to an instance is the one whose key names it as a whole token.
 */
export async function findDeliveredOutputs(store: ObjectStore, prefix: string, instanceIds: string[]): Promise<Map<string, string>> {
  const wanted = new Set(instanceIds);
  const found = new Map<string, string>();
  for await (const o of store.list(prefix)) {
    for (const token of o.key.slice(prefix.length).split(/[/.]/)) {
      for (const id of wanted) {
        if (token === id || token.startsWith(`${id}_`) || token.endsWith(`_${id}`) || token.startsWith(`${id}-`) || token.endsWith(`-${id}`)) {
          found.set(id, o.key);
          wanted.delete(id);
        }
      }
    }
    if (wanted.size === 0) break;
  }
  return found;
}
