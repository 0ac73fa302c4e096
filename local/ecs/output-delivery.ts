/**
 * OssOutputDelivery: each instance's whole output (not cut at 24 KB) written to the caller's
 * bucket. The real service's object-key layout is not documented (reference, open points), so
 * the layout here is a template the local cloud can be configured with; fleetrun itself never
 * assumes one.
 */
import { parseOssOutputDelivery } from './requests/oss-output-delivery.ts';

/** Where a bucket is and whose it is, as OSS GetBucketInfo tells it. */
export interface OutputBucketInfo {
  /** ECS form: `cn-hangzhou`. */
  region: string;
  ownerAccountId: string;
}

/** Where outputs go: the local cloud wires this to its OSS service. */
export interface OutputDelivery {
  /** The bucket's region and owner, or undefined when there is no such bucket. */
  bucketInfo(bucket: string): Promise<OutputBucketInfo | undefined>;
  /** Writes the output; throws an `OutputDeliveryError` the record reports. */
  put(bucket: string, key: string, body: Buffer | string): Promise<void>;
}

export class OutputDeliveryError extends Error {
  override readonly name = 'OutputDeliveryError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Placeholders: {prefix} {invokeId} {instanceId} {commandId} {repeat}. */
export const DEFAULT_OUTPUT_KEY_TEMPLATE = '{prefix}{invokeId}/{instanceId}/{repeat}.log';

export function outputObjectKey(template: string, parts: { prefix: string; invokeId: string; instanceId: string; commandId: string; repeat: number }): string {
  const prefix = parts.prefix === '' || parts.prefix.endsWith('/') ? parts.prefix : `${parts.prefix}/`;
  return template
    .replaceAll('{prefix}', prefix)
    .replaceAll('{invokeId}', parts.invokeId)
    .replaceAll('{instanceId}', parts.instanceId)
    .replaceAll('{commandId}', parts.commandId)
    .replaceAll('{repeat}', String(parts.repeat));
}

export { parseOssOutputDelivery };
