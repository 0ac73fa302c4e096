/**
 * The timer trigger's envelope: FC sends `{ triggerTime, triggerName, payload }`, one per firing,
 * where payload is the trigger's configured string — usually JSON text, so it is parsed when it is
 * JSON and handed over unchanged when it is not. A timer's event is never anyone's input: one that
 * does not fit fails the invocation (EventPayloadError) rather than being skipped.
 * @see docs/platform-facts.md §5.4
 */
import { z } from 'zod';
import { EventPayloadError, issueReason, type Envelope } from './envelope.ts';

export interface TimerEvent {
  /** When FC fired the trigger, e.g. `2023-12-26T07:49:00Z`. */
  triggerTime: string;
  triggerName: string;
  /** JSON-parsed when the configured payload is JSON, else the string itself ('' when none). */
  payload: unknown;
}

export const timerEventSchema = z.looseObject({
  triggerTime: z.string().min(1),
  triggerName: z.string().min(1),
  // A timer without a configured payload may send none at all.
  payload: z.string().default(''),
});

function payloadValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The (JSON-parsed) payload as a TimerEvent; throws EventPayloadError for anything else. */
export function parseTimerEvent(payload: unknown): TimerEvent {
  const parsed = timerEventSchema.safeParse(payload);
  if (!parsed.success) throw new EventPayloadError(`not a timer event: ${issueReason(parsed.error, '(root)')}`);
  return { triggerTime: parsed.data.triggerTime, triggerName: parsed.data.triggerName, payload: payloadValue(parsed.data.payload) };
}

/** One firing, one record, named by its trigger. */
export const timerEnvelope: Envelope<TimerEvent> = {
  records(payload) {
    const event = parseTimerEvent(payload);
    return [{ ok: true, id: event.triggerName, record: event }];
  },
};

/**
 * The firing's time as a Date; undefined when `triggerTime` is not a time (FC documents ISO 8601
 * UTC, but only the string's presence is checked, so an unexpected format does not fail the tick).
 */
export function triggerDate(event: TimerEvent): Date | undefined {
  const ms = Date.parse(event.triggerTime);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
