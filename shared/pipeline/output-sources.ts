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

/** Where one dispatch call's outputs are delivered, under the run's prefix. */
export function outputBatchPrefix(runPrefix: string, batch: number): string {
  return `${runPrefix}b${batch}/`;
}

/**
 * The instance ids a delivered object's key (below its prefix) could name as a whole token: each
 * `/`- or `.`-separated token itself, and what is left of it after cutting at a `_` or `-` from
 * either end (`<id>_stdout`, `task-<id>`).
 */
function namesIn(relativeKey: string): string[] {
  const names: string[] = [];
  for (const token of relativeKey.split(/[/.]/)) {
    if (!token) continue;
    names.push(token);
    for (let i = 0; i < token.length; i++) {
      if (token[i] !== '_' && token[i] !== '-') continue;
      if (i > 0) names.push(token.slice(0, i));
      if (i < token.length - 1) names.push(token.slice(i + 1));
    }
  }
  return names;
}

interface Folder {
  /** Instance id → the first listed key that names it. */
  byName: Map<string, string>;
  /** The listing under way, and when it started: only a listing that started after a request can answer it. */
  listing: { startedAt: number; done: Promise<void> } | undefined;
  usedAt: number;
}

/** Folders a warm instance remembers; a run's events come close together, older folders go first. */
const MAX_FOLDERS = 2000;

/** How long an output's delivery is waited for, and what to do with each one found meanwhile. */
export interface OutputWait {
  /** Only a listing that began at or after this moment can say an object is missing (the event's arrival). */
  askedAt: number;
  /** No listing starts after this moment; what is still missing then is the caller's to fetch. */
  until: number;
  /** Called with each batch of newly found instances as it is found, before the wait goes on for the rest. */
  onFound?: (found: Map<string, string>) => Promise<void>;
}

/** First pause before listing a folder again for a late output; each pause doubles up to the cap. */
export const RELIST_FIRST_PAUSE_MS = 50;
/**
 * The longest pause between two listings of a folder while outputs are awaited: a late object is
 * seen at most this long after it lands, for at most one LIST per folder per half second of waiting.
 */
export const RELIST_MAX_PAUSE_MS = 500;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Finds delivered outputs. The service's key layout under the prefix is not documented, so nothing
 * here assumes one: the object that belongs to an instance is the one whose key names it as a
 * whole token. Nor is the order of an output object and its TaskCompleted event documented
 * (docs/platform-facts.md): an object may land after its event, so `waitFor` lists again, backing
 * off, until a bound the caller sets. The listings of a folder are shared by every event waiting on
 * it, and what they saw is kept, so a burst of events costs a few listings, not one each.
 */
export class DeliveredOutputIndex {
  private readonly folders = new Map<string, Folder>();
  constructor(readonly store: ObjectStore) {}

  async find(prefix: string, instanceIds: string[], askedAt = Date.now()): Promise<Map<string, string>> {
    let folder = this.folders.get(prefix);
    if (!folder) {
      folder = { byName: new Map(), listing: undefined, usedAt: askedAt };
      this.folders.set(prefix, folder);
      this.evict();
    }
    folder.usedAt = Date.now();
    let found = this.match(folder, instanceIds);
    // A listing that began before this request may still have seen its objects; if not, list again.
    while (found.size < instanceIds.length && folder.listing && folder.listing.startedAt < askedAt) {
      await folder.listing.done.catch(() => {});
      found = this.match(folder, instanceIds);
    }
    if (found.size === instanceIds.length) return found;
    await (folder.listing?.done ?? this.relist(prefix, folder));
    return this.match(folder, instanceIds);
  }

  /**
   * `find`, repeated with pauses that double from RELIST_FIRST_PAUSE_MS to RELIST_MAX_PAUSE_MS until
   * every instance is found or `until` passes (one last listing at the bound). Each newly found
   * batch goes to `onFound` at once, so an early output is not held back by a late one. Resolves
   * with every instance found.
   */
  async waitFor(prefix: string, instanceIds: string[], wait: OutputWait): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    let want = instanceIds;
    let askedAt = wait.askedAt;
    let pause = RELIST_FIRST_PAUSE_MS;
    for (;;) {
      const seen = await this.find(prefix, want, askedAt);
      if (seen.size > 0) {
        for (const [id, key] of seen) found.set(id, key);
        want = want.filter((id) => !seen.has(id));
        await wait.onFound?.(seen);
      }
      const now = Date.now();
      if (want.length === 0 || now >= wait.until) return found;
      await sleep(Math.min(pause, wait.until - now));
      pause = Math.min(pause * 2, RELIST_MAX_PAUSE_MS);
      askedAt = Date.now();
    }
  }

  private relist(prefix: string, folder: Folder): Promise<void> {
    if (folder.listing) return folder.listing.done;
    const startedAt = Date.now();
    const done = (async () => {
      const byName = new Map<string, string>();
      for await (const o of this.store.list(prefix)) {
        for (const name of namesIn(o.key.slice(prefix.length))) if (!byName.has(name)) byName.set(name, o.key);
      }
      folder.byName = byName;
    })().finally(() => {
      if (folder.listing?.done === done) folder.listing = undefined;
    });
    folder.listing = { startedAt, done };
    return done;
  }

  private match(folder: Folder, instanceIds: string[]): Map<string, string> {
    const found = new Map<string, string>();
    for (const id of instanceIds) {
      const key = folder.byName.get(id);
      if (key) found.set(id, key);
    }
    return found;
  }

  private evict(): void {
    if (this.folders.size <= MAX_FOLDERS) return;
    const oldest = [...this.folders.entries()].sort((a, b) => a[1].usedAt - b[1].usedAt).slice(0, this.folders.size - MAX_FOLDERS);
    for (const [prefix] of oldest) this.folders.delete(prefix);
  }
}
