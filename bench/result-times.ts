/**
 * When each instance's result of a run was stored in OSS, whichever way summarize stores them: an
 * object per instance (`runs/<id>/results/<instance>.json`), or an object per stored batch
 * (`runs/<id>/stored/<hash>-<n>`, its header naming the batch's instances one a line, then an empty
 * line) — read after the run, so the benchmark depends on no code it measures.
 */
import { runKeys } from '../shared/runs/keys.ts';
import type { ObjectStore } from '../shared/store/port.ts';

/** `written`: first-write times of the runs bucket's keys (oss-writes.ts). */
export async function resultStoredTimes(store: ObjectStore, written: Map<string, number>, runId: string): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  const note = (instanceId: string, at: number) => {
    const known = times.get(instanceId);
    if (known === undefined || at < known) times.set(instanceId, at);
  };
  const prefix = runKeys.prefix(runId);
  for (const [key, at] of written) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const own = /^results\/([^/]+)\.json$/.exec(rest);
    if (own) {
      note(own[1]!, at);
      continue;
    }
    // A batch object holds its results; a marker of the earlier layout (no -<n>) only names results stored on their own.
    if (!/^stored\/[0-9a-f]{32}-\d+$/.test(rest)) continue;
    const body = (await store.get(key))?.toString('utf8') ?? '';
    const header = body.slice(0, Math.max(0, body.indexOf('\n\n')));
    for (const line of header.split('\n')) {
      const id = line.split('\t')[0];
      if (id) note(id, at);
    }
  }
  return times;
}
