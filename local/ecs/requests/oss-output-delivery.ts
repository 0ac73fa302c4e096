/**
 * OssOutputDelivery (seed 001): `oss://bucket[/prefix]`. The seed's description of the form is cut off;
 * the bucket name is OSS's own rule (3 to 63 lower-case letters, digits and hyphens, starting and ending
 * with a letter or digit) and the prefix follows OSS's object-key rule (no leading /, at most 1023 bytes)
 * with no empty path segment.
 */
import { EcsApiError } from '../api-error.ts';

export interface OssOutputTarget {
  bucket: string;
  prefix: string;
}

export function parseOssOutputDelivery(value: string): OssOutputTarget | undefined {
  const m = /^oss:\/\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])(?:\/([\s\S]*))?$/.exec(value);
  return m ? { bucket: m[1]!, prefix: m[2] ?? '' } : undefined;
}

export function checkOssOutputDelivery(value: string | undefined): void {
  if (!value) return;
  const target = parseOssOutputDelivery(value);
  if (!target) throw new EcsApiError('InvalidParameter.OssOutputDelivery', 'OssOutputDelivery is oss://bucket or oss://bucket/prefix.');
  if (target.prefix.startsWith('/') || target.prefix.includes('//') || Buffer.byteLength(target.prefix) > 1023)
    throw new EcsApiError('InvalidOssOutputDelivery.KeyPrefixMalformed', 'The key prefix must not start with / or hold //, and is at most 1023 bytes.');
}
