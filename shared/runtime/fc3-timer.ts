/**
 * The FC 3.0 adapter for timer triggers: `handler(timerEvent, context)` for a function that a timer
 * fires, built on the timer envelope (one firing, one event; an event that is not a timer's fails
 * the invocation with EventPayloadError).
 * @see docs/platform-facts.md §5.4
 */
import type { Handler } from './context.ts';
import { fc3EventHandler } from './fc3-event.ts';
import { timerEnvelope, type TimerEvent } from './envelopes/timer.ts';

/** `handler(timerEvent, context)` as FC's `(event: Buffer, context)` for a timer trigger. */
export function fc3TimerHandler<R>(handler: Handler<TimerEvent, R>, fallback: { functionName: string; region: string; accountId: string }) {
  return fc3EventHandler(
    timerEnvelope,
    async ([firing], context) => {
      // The timer envelope yields exactly one record, or throws.
      if (!firing?.ok) throw new Error('the timer envelope yielded no timer event');
      return handler(firing.record, context);
    },
    fallback,
  );
}
