/**
 * The FC 3.0 adapter for event triggers (EventBridge, MNS via event streaming, timers): FC hands
 * the handler the payload as a Buffer and its own context; the adapter turns them into a typed
 * event and a FleetrunContext. EventBridge sends one CloudEvent per invocation, event streaming an
 * array of them, so event handlers always get an array.
 * @see docs/platform-facts.md §5.1, §5.2, §5.4–5.6
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FleetrunContext, Handler } from './context.ts';
import { createLogger, type LogSink } from './logger.ts';

const fcContextSchema = z.looseObject({
  requestId: z.string().default(() => randomUUID()),
  credentials: z.looseObject({ accessKeyId: z.string(), accessKeySecret: z.string(), securityToken: z.string().optional() }).optional(),
  function: z.looseObject({ name: z.string() }).optional(),
  region: z.string().optional(),
  accountId: z.string().optional(),
});

export class EventPayloadError extends Error {
  override readonly name = 'EventPayloadError';
}

/** The FC context as a FleetrunContext; secrets of the credentials never reach a log line. */
export function toFleetrunContext(fcContext: unknown, fallback: { functionName: string; region: string; accountId: string }, sink?: LogSink): FleetrunContext {
  const c = fcContextSchema.parse(fcContext ?? {});
  const credentials = c.credentials ?? { accessKeyId: '', accessKeySecret: '' };
  const functionName = c.function?.name ?? fallback.functionName;
  return {
    requestId: c.requestId,
    functionName,
    region: c.region ?? fallback.region,
    accountId: c.accountId ?? fallback.accountId,
    credentials,
    logger: createLogger({ ...(sink ? { sink } : {}), requestId: c.requestId, name: functionName, secrets: [credentials.accessKeySecret, credentials.securityToken ?? ''] }),
  };
}

export function parseEventPayload(event: unknown): unknown {
  const text = Buffer.isBuffer(event) ? event.toString('utf8') : typeof event === 'string' ? event : undefined;
  if (text === undefined) return event;
  try {
    return JSON.parse(text);
  } catch {
    throw new EventPayloadError('the event payload is not JSON');
  }
}

/** `handler(events[], context)` as FC's `(event: Buffer, context)`. */
export function fc3EventHandler<R>(handler: Handler<unknown[], R>, fallback: { functionName: string; region: string; accountId: string }) {
  return async (event: unknown, fcContext: unknown): Promise<R> => {
    const payload = parseEventPayload(event);
    return handler(Array.isArray(payload) ? payload : [payload], toFleetrunContext(fcContext, fallback));
  };
}
