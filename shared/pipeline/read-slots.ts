/**
 * The read budget of one command, kept in OSS so every task-events instance shares it: FC 3.0's
 * built-in runtimes run one event per instance, so no process sees the others' reads. Slot n of
 * the fetch interval opens at `since + n × interval` (the run's start, which every instance reads
 * alike from the manifest); a read needs its slot's create-once claim, so by any moment the command
 * has had at most as many reads as a poller started with the run. The claimant writes `<n>.done`
 * naming every instance whose result it (or an earlier read) sent — instance ids only, never output.
 */
import { runKeys } from '../runs/keys.ts';
import type { ObjectStore } from '../store/port.ts';

/** The slot open at `now`: slot 0 is open from the start, whatever the clocks say. */
export function slotAt(since: number, intervalMs: number, now: number): number {
  return Math.max(0, Math.floor((now - since) / intervalMs));
}

export function slotOpensAt(since: number, intervalMs: number, slot: number): number {
  return slot === 0 ? Number.NEGATIVE_INFINITY : since + slot * intervalMs;
}

interface DoneBody {
  version: 1;
  instances: string[];
}

export class ReadSlots {
  constructor(
    private readonly store: ObjectStore,
    private readonly runId: string,
    private readonly scope: string,
  ) {}

  /** True when this caller now holds the slot. */
  async claim(slot: number): Promise<boolean> {
    const body = JSON.stringify({ version: 1, claimedAt: new Date().toISOString() });
    return (await this.store.put(runKeys.readClaim(this.runId, this.scope, slot), body, { forbidOverwrite: true, contentType: 'application/json' })) === 'written';
  }

  /** The instances the slot's read covered; undefined while it has not said (or its holder died). */
  async done(slot: number): Promise<Set<string> | undefined> {
    const raw = await this.store.get(runKeys.readDone(this.runId, this.scope, slot));
    return raw ? parseDone(raw) : undefined;
  }

  async markDone(slot: number, instances: Iterable<string>): Promise<void> {
    const body: DoneBody = { version: 1, instances: [...new Set(instances)].sort() };
    await this.store.put(runKeys.readDone(this.runId, this.scope, slot), JSON.stringify(body), { contentType: 'application/json' });
  }

  /**
   * What reads before `slot` sent. Each done lists everything before it too, so the latest one says
   * it all — except reads still in flight after it: a claim younger than `graceMs` without its done
   * is waited for (up to its age of `graceMs`), since a read overlapping it would send the same
   * results twice. An older one's holder is taken for dead.
   */
  async coveredBefore(slot: number, graceMs: number, pollMs: number): Promise<Set<string>> {
    const prefix = runKeys.readsPrefix(this.runId, this.scope);
    const dones = new Set<number>();
    const claimedAt = new Map<number, number>();
    for await (const o of this.store.list(prefix)) {
      const m = /^(\d+)(\.done)?$/.exec(o.key.slice(prefix.length));
      if (!m || Number(m[1]) >= slot) continue;
      if (m[2]) dones.add(Number(m[1]));
      else claimedAt.set(Number(m[1]), Date.parse(o.lastModified));
    }
    const latest = Math.max(-1, ...dones);
    const covered = latest < 0 ? new Set<string>() : ((await this.done(latest)) ?? new Set<string>());
    const inFlight = [...claimedAt].filter(([n, at]) => n > latest && !dones.has(n) && !(Date.now() - at >= graceMs));
    const late = await Promise.all(inFlight.map(([n, at]) => this.awaitDone(n, (Number.isFinite(at) ? at : Date.now()) + graceMs, pollMs)));
    for (const d of late) for (const id of d ?? []) covered.add(id);
    return covered;
  }

  /** The slot's done, looked for until `until` (ms) with pauses from `pollMs` doubling to a second. */
  async awaitDone(slot: number, until: number, pollMs: number): Promise<Set<string> | undefined> {
    let pause = pollMs;
    for (;;) {
      const done = await this.done(slot);
      if (done || Date.now() >= until) return done;
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(pause, until - Date.now()))));
      pause = Math.min(pause * 2, 1_000);
    }
  }
}

function parseDone(raw: Buffer): Set<string> {
  try {
    const body = JSON.parse(raw.toString('utf8')) as Partial<DoneBody>;
    return new Set(Array.isArray(body.instances) ? body.instances.filter((i): i is string => typeof i === 'string') : []);
  } catch {
    // A done that does not parse covers nothing: the waiters read again, which is only a duplicate.
    return new Set();
  }
}
