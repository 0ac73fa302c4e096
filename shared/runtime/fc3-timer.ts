/**
 * The FC 3.0 adapter for timer triggers: FC sends `{ triggerTime, triggerName, payload }` where
 * payload is the trigger's configured string — usually JSON text, so the adapter parses it when it
 * is JSON and hands the string over unchanged when it is not.
 * @see docs/platform-facts.md §5.4
 */
import { z } from 'zod';
import type { Handler } from './context.ts';
import { EventPayloadError, parseEventPayload, toFleetrunContext } from './fc3-event.ts';

export interface TimerEvent {
  /** When FC fired the trigger, e.g. `2023-12-26T07:49:00Z`. */
  triggerTime: string;
  triggerName: string;
  /** JSON-parsed when the configured payload is JSON, else the string itself ('' when none). */
  payload: unknown;
}

export const fc3TimerEventSchema = z.looseObject({
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

/** The timer event as a TimerEvent; throws EventPayloadError for anything else (a timer's event is never a client's fault). */
export function parseTimerEvent(event: unknown): TimerEvent {
  const parsed = fc3TimerEventSchema.safeParse(parseEventPayload(event));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EventPayloadError(`not a timer event: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { triggerTime: parsed.data.triggerTime, triggerName: parsed.data.triggerName, payload: payloadValue(parsed.data.payload) };
}

/** `handler(timerEvent, context)` as FC's `(event: Buffer, context)` for a timer trigger. */
export function fc3TimerHandler<R>(handler: Handler<TimerEvent, R>, fallback: { functionName: string; region: string; accountId: string }) {
  return async (event: unknown, fcContext: unknown): Promise<R> => handler(parseTimerEvent(event), toFleetrunContext(fcContext, fallback));
}
