/**
 * The local event bus: rules (a pattern and a target function) receive the events published on
 * it, at least once, with retries and a dead-letter list, as EventBridge delivers them. It can be
 * told to drop, duplicate and reorder events, so consumers are tested against what a real bus may
 * do, and to take time handing each event on (a delay distribution: the real bus's is undocumented).
 * A rule with a batch window receives arrays of events, as an FC trigger with
 * runOptions.batchWindow does (docs/platform-facts.md §5.5); without one, one event per call.
 */
import { delaySampler, NO_DELAY, type DelayDistribution } from '../delay-distribution.ts';
import { seededRandom as rng } from '../seeded-random.ts';
import { matchesPattern, type EventPattern } from './pattern.ts';

/** An FC trigger's runOptions.batchWindow, with the body limit of the trigger's invocation type. */
export interface BatchWindow {
  /** CountBasedWindow: a push goes out once this many events are held (1 to 10,000). */
  countWindow: number;
  /** TimeBasedWindow: …or this many seconds after the first held event (0 to 15; 0 = at once, whatever is held). */
  timeWindowSeconds: number;
  /** The invocation body limit (sync 32 MB, async 128 KB): a push that would exceed it goes out in parts. */
  maxBodyBytes: number;
}

export interface Rule {
  name: string;
  pattern: EventPattern;
  /** Gets one event, or with `batchWindow` an array of events. */
  target: (payload: unknown) => Promise<unknown>;
  batchWindow?: BatchWindow | undefined;
  /** Attempts in all before the event (or the batch) goes to the dead letters (BACKOFF_RETRY's default: 3). */
  attempts?: number;
  baseDelayMs?: number;
}

export interface Chaos {
  /** Fraction of events never delivered. */
  dropRate: number;
  /** Deliveries per event (1 = once). */
  copies: number;
  /** Events are held this long and delivered shuffled (0 = in order). */
  reorderWindowMs: number;
  seed: number;
}

export interface BusDelay {
  /** Between an event's publication and its reaching the rules (their batch windows, or their targets). */
  distribution: DelayDistribution;
  seed: number;
}

const SHUFFLE_STREAM = 0x5bd1e995;

export const NO_CHAOS: Chaos = { dropRate: 0, copies: 1, reorderWindowMs: 0, seed: 1 };

interface Held {
  events: unknown[];
  /** The JSON array's size so far: what the push's body would be. */
  bytes: number;
  cancel?: () => void;
}

export class EventBus {
  private readonly rules = new Map<string, Rule>();
  private chaos: Chaos;
  /**
   * Two streams from the one seed: drops draw once per published event and shuffles as windows
   * close, so with one stream which events are lost would depend on timing, and a run could not
   * be repeated. Delays draw from their own seed, so turning them on changes no drop.
   */
  private dropRandom: () => number;
  private shuffleRandom: () => number;
  private delay: () => number;
  private held: unknown[] = [];
  private holdTimer: NodeJS.Timeout | undefined;
  /** Events on their way to the rules (the delivery delay). */
  private readonly travelling = new Set<NodeJS.Timeout>();
  /** Rule name → the batch its window is filling. */
  private readonly batches = new Map<string, Held>();
  private readonly pending = new Set<Promise<void>>();
  private closed = false;
  /** One entry per event given up on; a batch given up on leaves one per event it held. */
  readonly deadLetters: { rule: string; event: unknown; error: string }[] = [];
  /** deliveries: target calls (retries included); eventsDelivered: events in calls that succeeded. */
  readonly counts = { published: 0, dropped: 0, deliveries: 0, failures: 0, eventsDelivered: 0 };

  constructor(
    chaos: Partial<Chaos> = {},
    private readonly log: (line: string) => void = () => {},
    delay: BusDelay = { distribution: NO_DELAY, seed: 1 },
  ) {
    this.chaos = { ...NO_CHAOS, ...chaos };
    this.dropRandom = rng(this.chaos.seed);
    this.shuffleRandom = rng(this.chaos.seed ^ SHUFFLE_STREAM);
    this.delay = delaySampler(delay.distribution, rng(delay.seed));
  }

  configure(chaos: Partial<Chaos>): void {
    this.chaos = { ...this.chaos, ...chaos };
    this.dropRandom = rng(this.chaos.seed);
    this.shuffleRandom = rng(this.chaos.seed ^ SHUFFLE_STREAM);
  }

  /** How long each event takes to reach the rules from now on. */
  configureDelay(delay: BusDelay): void {
    this.delay = delaySampler(delay.distribution, rng(delay.seed));
  }

  addRule(rule: Rule): void {
    this.rules.set(rule.name, rule);
  }

  publish(event: unknown): void {
    if (this.closed) return;
    this.counts.published++;
    if (this.dropRandom() < this.chaos.dropRate) {
      this.counts.dropped++;
      return;
    }
    // Each copy is a delivery of its own, so each takes its own time.
    for (let i = 0; i < Math.max(1, this.chaos.copies); i++) {
      const wait = this.delay();
      if (wait <= 0) {
        this.arrive(event);
        continue;
      }
      const timer = setTimeout(() => {
        this.travelling.delete(timer);
        this.arrive(event);
      }, wait);
      this.travelling.add(timer);
    }
  }

  /** Resolves once every event published so far has been delivered or given up on (retries, delays and batch windows included). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.held.length > 0 && this.holdTimer === undefined) this.release();
      if (this.pending.size > 0) await Promise.allSettled([...this.pending]);
      else if (this.held.length > 0 || this.travelling.size > 0 || this.batches.size > 0) await new Promise((r) => setTimeout(r, 10));
      else return;
    }
  }

  /** Stops every timer: events still travelling or held in a window are not delivered. */
  close(): void {
    this.closed = true;
    for (const t of this.travelling) clearTimeout(t);
    this.travelling.clear();
    clearTimeout(this.holdTimer);
    this.held = [];
    for (const b of this.batches.values()) b.cancel?.();
    this.batches.clear();
  }

  private arrive(event: unknown): void {
    this.held.push(event);
    if (this.chaos.reorderWindowMs <= 0) return this.release();
    this.holdTimer ??= setTimeout(() => this.release(), this.chaos.reorderWindowMs);
  }

  private release(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const batch = this.held;
    this.held = [];
    if (this.chaos.reorderWindowMs > 0) {
      for (let i = batch.length - 1; i > 0; i--) {
        const j = Math.floor(this.shuffleRandom() * (i + 1));
        [batch[i], batch[j]] = [batch[j], batch[i]];
      }
    }
    for (const event of batch) {
      for (const rule of this.rules.values()) {
        if (!matchesPattern(rule.pattern, event)) continue;
        if (rule.batchWindow) this.enqueue(rule, rule.batchWindow, event);
        else this.deliver(rule, event, [event]);
      }
    }
  }

  /** Adds the event to the rule's window; pushes when the count is reached, the time is up, or the body limit would be passed. */
  private enqueue(rule: Rule, w: BatchWindow, event: unknown): void {
    const size = Buffer.byteLength(JSON.stringify(event));
    // "[" + event + "]": an event that does not fit a body on its own cannot be pushed at all.
    if (size + 2 > w.maxBodyBytes) {
      const error = `event of ${size} bytes exceeds the invocation body limit of ${w.maxBodyBytes} bytes`;
      this.deadLetters.push({ rule: rule.name, event, error });
      this.log(`[eventbridge] ${rule.name}: ${error}`);
      return;
    }
    let held = this.batches.get(rule.name);
    // A comma before every event but the first.
    if (held && held.bytes + 1 + size > w.maxBodyBytes) {
      this.flush(rule);
      held = undefined;
    }
    if (!held) {
      held = { events: [], bytes: 2 };
      this.batches.set(rule.name, held);
    }
    held.bytes += size + (held.events.length > 0 ? 1 : 0);
    held.events.push(event);
    if (held.events.length >= w.countWindow) return this.flush(rule);
    if (held.cancel) return;
    // TimeBasedWindow 0: what is held now goes at once — events released in the same turn share the push.
    if (w.timeWindowSeconds <= 0) {
      const immediate = setImmediate(() => this.flush(rule));
      held.cancel = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => this.flush(rule), w.timeWindowSeconds * 1000);
      held.cancel = () => clearTimeout(timer);
    }
  }

  private flush(rule: Rule): void {
    const held = this.batches.get(rule.name);
    if (!held) return;
    this.batches.delete(rule.name);
    held.cancel?.();
    this.deliver(rule, held.events, held.events);
  }

  /** Calls the target with `payload` until it succeeds or the attempts run out; a batch is retried whole. */
  private deliver(rule: Rule, payload: unknown, events: unknown[]): void {
    const attempts = rule.attempts ?? 3;
    const run = (async () => {
      for (let attempt = 1; ; attempt++) {
        this.counts.deliveries++;
        try {
          await rule.target(payload);
          this.counts.eventsDelivered += events.length;
          return;
        } catch (e) {
          this.counts.failures++;
          if (attempt >= attempts || this.closed) {
            const error = (e as Error).message;
            for (const event of events) this.deadLetters.push({ rule: rule.name, event, error });
            this.log(`[eventbridge] ${rule.name}: gave up after ${attempt} attempts${rule.batchWindow ? ` on a batch of ${events.length}` : ''}: ${error}`);
            return;
          }
          await new Promise((r) => setTimeout(r, (rule.baseDelayMs ?? 200) * 2 ** (attempt - 1)));
        }
      }
    })();
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
  }
}
