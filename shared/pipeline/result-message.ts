/**
 * A per-instance result as a queue message: JSON, base64 (MNS bodies are XML text and the SDK does
 * not escape them), at most 64 KB. A result whose output would not fit keeps a tail in the message
 * and the whole output in the bucket. The consumer reads it with its trigger's envelope
 * (resultMessagesEnvelope in summarize.ts).
 */
import type { InstanceResult } from '../runs/result.ts';
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
