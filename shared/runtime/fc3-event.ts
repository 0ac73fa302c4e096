/**
 * The FC 3.0 adapter for event triggers (EventBridge, MNS via event streaming, timers, direct
 * invocations): FC hands the handler the payload as a Buffer and its own context; the adapter
 * parses the JSON, lets the trigger's envelope (./envelopes/) take the records out of it, and hands
 * the handler those records — each typed, or failed with its reason — and a FleetrunContext.
 * @see docs/platform-facts.md §5.1, §5.2, §5.4–5.6
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FleetrunContext, Handler } from './context.ts';
import { EventPayloadError, type Envelope, type ParsedRecord } from './envelopes/envelope.ts';
import { createLogger, type LogSink } from './logger.ts';

const fcContextSchema = z.looseObject({
  requestId: z.string().default(() => randomUUID()),
  credentials: z.looseObject({ accessKeyId: z.string(), accessKeySecret: z.string(), securityToken: z.string().optional() }).optional(),
  // timeout: seconds (docs/platform-facts.md §5.2); anything else is no timeout known.
  function: z.looseObject({ name: z.string(), timeout: z.number().positive().optional().catch(undefined) }).optional(),
  region: z.string().optional(),
  accountId: z.string().optional(),
});

/** The FC context as a FleetrunContext; secrets of the credentials never reach a log line. */
export function toFleetrunContext(fcContext: unknown, fallback: { functionName: string; region: string; accountId: string }, sink?: LogSink): FleetrunContext {
  const startedAt = Date.now();
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
    ...(c.function?.timeout !== undefined ? { deadline: new Date(startedAt + c.function.timeout * 1000) } : {}),
  };
}

/** The invocation's bytes as JSON; EventPayloadError when they are not JSON. */
export function parseEventPayload(event: unknown): unknown {
  const text = Buffer.isBuffer(event) ? event.toString('utf8') : typeof event === 'string' ? event : undefined;
  if (text === undefined) return event;
  try {
    return JSON.parse(text);
  } catch {
    throw new EventPayloadError('the event payload is not JSON');
  }
}

/**
 * `handler(records, context)` as FC's `(event: Buffer, context)`. A record that does not fit the
 * envelope reaches the handler as a failed record, for it to skip or count as it must; only a
 * payload that is not JSON, or not the envelope's at all, rejects the invocation (EventPayloadError).
 */
export function fc3EventHandler<T, R>(envelope: Envelope<T>, handler: Handler<ParsedRecord<T>[], R>, fallback: { functionName: string; region: string; accountId: string }) {
  return async (event: unknown, fcContext: unknown): Promise<R> => {
    const records = envelope.records(parseEventPayload(event));
    return handler(records, toFleetrunContext(fcContext, fallback));
  };
}
