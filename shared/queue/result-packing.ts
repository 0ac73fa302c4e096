/**
 * The results queue's messages: what task-events, the result fetcher and the reconciler send and
 * summarize reads. The event stream bills per message pulled and MNS per request, so results travel
 * packed, as many whole results a message as fit under MNS's 65,536-byte body (docs/platform-facts.md
 * §8.2, the queue's default MaximumMessageSize, which the deployment keeps). Every body is base64 (the
 * SDK does not escape XML; §8.4) of JSON text, and the results trigger (IsBase64Decode: true) hands
 * summarize that text. The text is one of:
 *
 * - **one result** (format 1, what every message was before packing, and still what a message of one
 *   result is): the InstanceResult object itself, `{"version":1,"runId":…}`;
 * - **packed** (format 2, two results or more): `{"v":2,"results":[<InstanceResult>,…]}`, each
 *   element what format 1 would have sent on its own.
 *
 * A reader tells them apart by the `v` key, which no InstanceResult has. Both stay readable: messages
 * in flight during an upgrade and those in the dead-letter queue are format 1, and a lone result is
 * sent as format 1 so that a summarizer not yet upgraded still reads it.
 */
import { z } from 'zod';
import type { InstanceResult } from '../runs/result.ts';
import type { MessageContent } from '../runtime/envelopes/mns-event-streaming.ts';
import { QueueError } from './port.ts';

declare const resultJsonBrand: unique symbol;
/** One result's JSON text (resultJson's): what the queue port takes, and packs. */
export type ResultJson = string & { readonly [resultJsonBrand]: true };

/** MNS's largest message body (the default MaximumMessageSize, §8.2), counted on the base64 that is sent. */
export const MESSAGE_BODY_BYTES = 65_536;
/** The most JSON bytes whose base64 fits a body: base64 sends 4 bytes for every 3. */
export const MESSAGE_JSON_BYTES = (MESSAGE_BODY_BYTES / 4) * 3;

export const PACKED_VERSION = 2;
const PACK_HEAD = `{"v":${PACKED_VERSION},"results":[`;
const PACK_TAIL = ']}';
const PACK_FRAME_BYTES = PACK_HEAD.length + PACK_TAIL.length;

export function resultJson(result: InstanceResult): ResultJson {
  return JSON.stringify(result) as ResultJson;
}

/** Whether a result fits a message on its own (format 1); one that does not must keep its output elsewhere. */
export function fitsOneMessage(json: ResultJson): boolean {
  return Buffer.byteLength(json) <= MESSAGE_JSON_BYTES;
}

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/**
 * Message bodies (base64) for these results, in their order: consecutive results share a message
 * while its JSON stays within {@link MESSAGE_JSON_BYTES}; a message of one result is format 1. A
 * result too large even alone is refused (MessageTooLarge), as MNS would refuse it: the producers
 * keep a large output in the bucket first (result-message.ts).
 */
export function packResultMessages(results: readonly ResultJson[]): string[] {
  const bodies: string[] = [];
  let group: ResultJson[] = [];
  let bytes = 0;
  const flush = () => {
    if (group.length === 1) bodies.push(base64(group[0]!));
    else if (group.length > 1) bodies.push(base64(PACK_HEAD + group.join(',') + PACK_TAIL));
    group = [];
    bytes = 0;
  };
  for (const json of results) {
    const size = Buffer.byteLength(json);
    if (size > MESSAGE_JSON_BYTES) throw new QueueError(`a result of ${size} bytes of JSON is over the ${MESSAGE_BODY_BYTES}-byte message limit as base64`, 'MessageTooLarge');
    // With this result the message would be the frame, every result, and a comma between each two.
    if (group.length > 0 && PACK_FRAME_BYTES + bytes + group.length + size > MESSAGE_JSON_BYTES) flush();
    group.push(json);
    bytes += size;
  }
  flush();
  return bodies;
}

/** Format 2's frame; its results are checked one by one by the reader, so a bad one costs only itself. */
const packedSchema = z.object({ v: z.literal(PACKED_VERSION), results: z.array(z.unknown()).min(1) });

/** Reads a message's parsed JSON as either format: one result, several, or why none; each result is left for the envelope's schema. */
export function resultMessageContent(json: unknown): MessageContent {
  if (json === null || typeof json !== 'object' || Array.isArray(json) || !Object.hasOwn(json, 'v')) return { one: json };
  const packed = packedSchema.safeParse(json);
  if (packed.success) return { several: packed.data.results };
  // zod's messages name what was expected, never the value received: no result's text reaches a log.
  const issue = packed.error.issues[0]!;
  return { refused: `packed message: ${issue.path.join('.') || '(body)'}: ${issue.message}` };
}
