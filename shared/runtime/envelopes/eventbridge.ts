/**
 * The EventBridge trigger's envelope for one Alibaba Cloud service event: FC invokes the function
 * once per matching event with a single CloudEvent, and with an array of them when the trigger
 * batches, so both are read. Each CloudEvent must carry the expected source and type, and its `data`
 * the event's own schema (which lives with the event, e.g. shared/events/).
 * @see docs/platform-facts.md §1.2, §5.5
 */
import { z } from 'zod';
import { cloudEventSchema, type CloudEvent } from './cloud-event.ts';
import { idOf, issueReason, type Envelope, type ParsedRecord } from './envelope.ts';

export interface EventBridgeEnvelope<D> extends Envelope<CloudEvent<D>> {
  /** One CloudEvent, checked; what `records` does to each element. */
  record(raw: unknown): ParsedRecord<CloudEvent<D>>;
}

export function eventBridgeEnvelope<S extends z.ZodType>(event: { source: string; type: string; data: S }): EventBridgeEnvelope<z.output<S>> {
  // One schema for the whole event, `data` last: a record wrong in several places is named by its first field.
  const schema = cloudEventSchema.extend({ source: z.literal(event.source), type: z.literal(event.type), data: event.data });
  const record = (raw: unknown): ParsedRecord<CloudEvent<z.output<S>>> => {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return { ok: true, id: parsed.data.id, record: parsed.data as CloudEvent<z.output<S>> };
    return { ok: false, id: idOf(raw), reason: issueReason(parsed.error, '(event)') };
  };
  return {
    record,
    records: (payload) => (Array.isArray(payload) ? payload : [payload]).map(record),
  };
}
