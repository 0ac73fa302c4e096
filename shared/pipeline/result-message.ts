/**
 * A per-instance result as a queue message: JSON, base64 (MNS bodies are XML text and the SDK does
 * not escape them), at most 64 KB. A result whose output would not fit keeps a tail in the message
 * and the whole output in the bucket.
 */
import { instanceResultSchema, type InstanceResult } from '../runs/result.ts';
import { runKeys } from '../runs/keys.ts';
import type { ObjectStore } from '../store/port.ts';

/** Room left for everything but the output in a 64 KB message, with base64's 4/3 growth. */
const MAX_MESSAGE_BYTES = 64 * 1024;
const INLINE_OUTPUT_BYTES = 8 * 1024;

export function encodeResult(result: InstanceResult): string {
  return Buffer.from(JSON.stringify(result), 'utf8').toString('base64');
}

/** Builds the message body; an output too large for it goes to the bucket first. */
export async function resultMessage(result: InstanceResult, store: ObjectStore): Promise<string> {
  const body = encodeResult(result);
  if (Buffer.byteLength(body) <= MAX_MESSAGE_BYTES) return body;
  const key = runKeys.output(result.runId, result.instanceId);
  await store.put(key, result.output, { contentType: 'text/plain; charset=utf-8', forbidOverwrite: true });
  const tail = Buffer.from(result.output, 'utf8');
  const kept = tail.subarray(Math.max(0, tail.length - INLINE_OUTPUT_BYTES)).toString('utf8').replace(/^\uFFFD+/, '');
  return encodeResult({ ...result, output: kept, outputKey: key });
}

export type DecodedMessage = { ok: true; result: InstanceResult } | { ok: false; reason: string };

/**
 * Reads a message body as EventBridge hands it over: already base64-decoded when the trigger has
 * IsBase64Decode (the default), still base64 otherwise.
 */
export function decodeResult(body: unknown): DecodedMessage {
  if (typeof body !== 'string') return { ok: false, reason: 'message body is not text' };
  const text = body.trimStart().startsWith('{') ? body : Buffer.from(body, 'base64').toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'message body is not JSON (nor base64 JSON)' };
  }
  const parsed = instanceResultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `${issue.path.join('.') || '(body)'}: ${issue.message}` };
  }
  return { ok: true, result: parsed.data };
}
