/**
 * The envelope of an MNS queue trigger (EventBridge event streaming): FC gets an array of
 * CloudEvents, one per message, whose `data` carries `messageId` and `messageBody`. Whether
 * `messageBody` is still base64 is the trigger's setting, not something to guess from the text:
 * with `IsBase64Decode: true` (the default) EventBridge decodes the body the producer base64-encoded
 * and hands over its text; with `false` the body arrives as the producer sent it.
 * @see docs/platform-facts.md §5.6
 */
import { z } from 'zod';
import { compactBase64 } from '../base64.ts';
import { idOf, issueReason, type Envelope, type ParsedRecord } from './envelope.ts';

/** The part of the trigger's `sourceMNSParameters` that decides what `messageBody` holds. */
export interface MnsTriggerParameters {
  /** As s.yaml sets it: true, EventBridge base64-decoded the body; false, the body is as sent (base64 for fleetrun's producers). */
  isBase64Decode: boolean;
}

/**
 * One record: a CloudEvent (`id`, `source` `MNS-<function>-<trigger>`, `type` `mns:Queue:SendMessage`,
 * …) whose `data` is `{ requestId, messageId, messageBody }`. Only `data` is required: a record
 * refused here is consumed with its batch, and a header field nobody reads is no reason to lose the
 * message it carries. `messageBody` is checked below, where its reason can say what it is not.
 */
const recordSchema = z.looseObject({
  id: z.unknown().optional(),
  data: z.looseObject({ requestId: z.unknown().optional(), messageId: z.unknown().optional(), messageBody: z.unknown().optional() }),
});

/** The message's text, or why there is none. */
function messageText(body: unknown, trigger: MnsTriggerParameters): { ok: true; text: string } | { ok: false; reason: string } {
  if (typeof body !== 'string') return { ok: false, reason: 'message body is not text' };
  if (trigger.isBase64Decode) return { ok: true, text: body };
  const compact = compactBase64(body);
  if (compact === undefined) return { ok: false, reason: 'message body is not base64 (the trigger has IsBase64Decode: false)' };
  return { ok: true, text: Buffer.from(compact, 'base64').toString('utf8') };
}

/** What one message's JSON holds: a record (the message is one), several records (a packed message), or why it holds none. */
export type MessageContent = { one: unknown } | { several: readonly unknown[] } | { refused: string };

/** The usual case: each message is one record. */
const oneRecord = (json: unknown): MessageContent => ({ one: json });

/**
 * `mnsEventStreamingEnvelope(trigger, recordSchema, contentOf?)`: the records are the messages,
 * JSON-parsed and checked — or, where `contentOf` says a message packs several, each of those. A
 * record is named by its message id, one packed in a message by the message id and its index
 * (`<messageId>#<i>`), so a bad record can be found in the queue, or the dead-letter queue, by name.
 */
export function mnsEventStreamingEnvelope<S extends z.ZodType>(trigger: MnsTriggerParameters, schema: S, contentOf: (json: unknown) => MessageContent = oneRecord): Envelope<z.output<S>> {
  const check = (id: string, value: unknown, root: string): ParsedRecord<z.output<S>> => {
    const parsed = schema.safeParse(value);
    return parsed.success ? { ok: true, id, record: parsed.data } : { ok: false, id, reason: issueReason(parsed.error, root) };
  };
  const records = (raw: unknown): ParsedRecord<z.output<S>>[] => {
    const event = recordSchema.safeParse(raw);
    if (!event.success) return [{ ok: false, id: idOf(raw), reason: issueReason(event.error, '(event)') }];
    const messageId = event.data.data.messageId;
    // The message id names it in MNS (and in the dead-letter queue); the event id only this delivery.
    const id = typeof messageId === 'string' ? messageId : idOf(raw);
    const text = messageText(event.data.data.messageBody, trigger);
    if (!text.ok) return [{ ok: false, id, reason: text.reason }];
    let json: unknown;
    try {
      json = JSON.parse(text.text);
    } catch {
      return [{ ok: false, id, reason: 'message body is not JSON' }];
    }
    const content = contentOf(json);
    if ('refused' in content) return [{ ok: false, id, reason: content.refused }];
    if ('one' in content) return [check(id, content.one, '(body)')];
    return content.several.map((value, i) => check(`${id}#${i}`, value, '(record)'));
  };
  return {
    // Event streaming pushes an array, even of one message; a lone CloudEvent is read as a batch of one (§5.5).
    records: (payload) => (Array.isArray(payload) ? payload : [payload]).flatMap(records),
  };
}
