/**
 * The local event bus: rules (a pattern and a target function) receive the events published on
 * it, at least once, with retries and a dead-letter list, as EventBridge delivers them. It can be
 * told to drop, duplicate and reorder events, so consumers are tested against what a real bus may do.
 */
import { seededRandom as rng } from '../seeded-random.ts';
import { matchesPattern, type EventPattern } from './pattern.ts';

export interface Rule {
  name: string;
  pattern: EventPattern;
  target: (event: unknown) => Promise<unknown>;
  /** Attempts in all before the event goes to the dead letters (BACKOFF_RETRY's default: 3). */
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

const SHUFFLE_STREAM = 0x5bd1e995;

export const NO_CHAOS: Chaos = { dropRate: 0, copies: 1, reorderWindowMs: 0, seed: 1 };

export class EventBus {
  private readonly rules = new Map<string, Rule>();
  private chaos: Chaos;
  /**
   * Two streams from the one seed: drops draw once per published event and shuffles as windows
   * close, so with one stream which events are lost would depend on timing, and a run could not
   * be repeated.
   */
  private dropRandom: () => number;
  private shuffleRandom: () => number;
  private held: unknown[] = [];
  private holdTimer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();
  readonly deadLetters: { rule: string; event: unknown; error: string }[] = [];
  readonly counts = { published: 0, dropped: 0, deliveries: 0, failures: 0 };

  constructor(
    chaos: Partial<Chaos> = {},
    private readonly log: (line: string) => void = () => {},
  ) {
    this.chaos = { ...NO_CHAOS, ...chaos };
    this.dropRandom = rng(this.chaos.seed);
    this.shuffleRandom = rng(this.chaos.seed ^ SHUFFLE_STREAM);
  }

  configure(chaos: Partial<Chaos>): void {
    this.chaos = { ...this.chaos, ...chaos };
    this.dropRandom = rng(this.chaos.seed);
    this.shuffleRandom = rng(this.chaos.seed ^ SHUFFLE_STREAM);
  }

  addRule(rule: Rule): void {
    this.rules.set(rule.name, rule);
  }

  publish(event: unknown): void {
    this.counts.published++;
    if (this.dropRandom() < this.chaos.dropRate) {
      this.counts.dropped++;
      return;
    }
    for (let i = 0; i < Math.max(1, this.chaos.copies); i++) this.held.push(event);
    if (this.chaos.reorderWindowMs <= 0) return this.release();
    this.holdTimer ??= setTimeout(() => this.release(), this.chaos.reorderWindowMs);
  }

  /** Resolves once every delivery started so far (and its retries) has settled. */
  async drain(): Promise<void> {
    while (this.held.length > 0 || this.pending.size > 0) {
      if (this.held.length > 0 && this.holdTimer === undefined) this.release();
      await Promise.allSettled([...this.pending]);
      if (this.held.length > 0) await new Promise((r) => setTimeout(r, this.chaos.reorderWindowMs));
    }
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
    for (const event of batch) for (const rule of this.rules.values()) if (matchesPattern(rule.pattern, event)) this.deliver(rule, event);
  }

  private deliver(rule: Rule, event: unknown): void {
    const attempts = rule.attempts ?? 3;
    const run = (async () => {
      for (let attempt = 1; ; attempt++) {
        this.counts.deliveries++;
        try {
          await rule.target(event);
          return;
        } catch (e) {
          this.counts.failures++;
          if (attempt >= attempts) {
            this.deadLetters.push({ rule: rule.name, event, error: (e as Error).message });
            this.log(`[eventbridge] ${rule.name}: gave up after ${attempt} attempts: ${(e as Error).message}`);
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
