/**
 * An envelope is how one kind of trigger wraps what a handler cares about (as in Powertools'
 * parser `envelopes/`): it knows the platform's record shape, takes each record out of it and
 * checks the part inside against a schema. The handler then sees typed records, and a record that
 * does not fit is a failure of that record alone, never of the batch around it.
 */
import type { z } from 'zod';

/** One record of an invocation: typed, or the reason it could not be, a reason a log line can carry. */
export type ParsedRecord<T> = { ok: true; id: string; record: T } | { ok: false; id: string; reason: string };

export interface Envelope<T> {
  /**
   * The records of one invocation's payload (already JSON-parsed), in delivery order. Throws
   * EventPayloadError only when the payload as a whole is not this envelope's: then there is no
   * record to fail on its own.
   */
  records(payload: unknown): ParsedRecord<T>[];
}

/** The payload is not what the trigger sends: not JSON, or not this envelope's shape at all. */
export class EventPayloadError extends Error {
  override readonly name = 'EventPayloadError';
}

/** The first zod issue as `path: message`; zod's messages name what was expected, never the value received. */
export function issueReason(error: z.ZodError, root: string): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || root}: ${issue.message}`;
}

/** The `id` a record carries when it is a string, for naming a record that failed. */
export function idOf(raw: unknown, fallback = '(no id)'): string {
  const id = raw !== null && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : fallback;
}
