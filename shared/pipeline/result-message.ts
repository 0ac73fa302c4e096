/**
 * A per-instance result ready for the results queue: its JSON text, which the queue packs with
 * others into messages (shared/queue/result-packing.ts, where both message formats are described).
 * A result must fit a message on its own: one whose output would not keeps a tail in the result and
 * the whole output in the bucket. The consumer reads messages with its trigger's envelope
 * (resultMessagesEnvelope in summarize.ts).
 */
import { fitsOneMessage, resultJson, type ResultJson } from '../queue/result-packing.ts';
import type { InstanceResult } from '../runs/result.ts';
import { runKeys } from '../runs/keys.ts';
import type { ObjectStore } from '../store/port.ts';

const INLINE_OUTPUT_BYTES = 8 * 1024;

/** A message of this one result, as it was sent before packing and still is when a result goes alone (format 1). */
export function encodeResult(result: InstanceResult): string {
  return Buffer.from(resultJson(result), 'utf8').toString('base64');
}

/** The result for the queue; an output too large for a message goes to the bucket first. */
export async function resultMessage(result: InstanceResult, store: ObjectStore): Promise<ResultJson> {
  const json = resultJson(result);
  if (fitsOneMessage(json)) return json;
  const key = runKeys.output(result.runId, result.instanceId);
  await store.put(key, result.output, { contentType: 'text/plain; charset=utf-8', forbidOverwrite: true });
  const tail = Buffer.from(result.output, 'utf8');
  const kept = tail.subarray(Math.max(0, tail.length - INLINE_OUTPUT_BYTES)).toString('utf8').replace(/^\uFFFD+/, '');
  return resultJson({ ...result, output: kept, outputKey: key });
}
