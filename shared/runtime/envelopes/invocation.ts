/**
 * The envelope of a direct (synchronous or asynchronous) invocation: the payload is the JSON the
 * caller sent, one value or an array of them, with nothing of the platform's around it.
 * @see docs/platform-facts.md §5.1, §6
 */
import type { z } from 'zod';
import { issueReason, type Envelope } from './envelope.ts';

/** Records are the payload's values, checked against `schema` and named by their place in it. */
export function invocationEnvelope<S extends z.ZodType>(schema: S): Envelope<z.output<S>> {
  return {
    records: (payload) =>
      (Array.isArray(payload) ? payload : [payload]).map((raw, n) => {
        const parsed = schema.safeParse(raw);
        return parsed.success ? { ok: true, id: `#${n}`, record: parsed.data } : { ok: false, id: `#${n}`, reason: issueReason(parsed.error, '(payload)') };
      }),
  };
}
