import { XMLParser } from 'fast-xml-parser';
import { BUCKET_ACLS, REDUNDANCY_TYPES, STORAGE_CLASSES, type BucketAcl, type BucketInfo, type RedundancyType, type StorageClass } from '../bucket-info.ts';
import { OssError } from '../errors.ts';
import { headerValue } from '../wire.ts';
import type { Action, OssRequest } from './types.ts';

/** A CreateBucketConfiguration is a few hundred bytes; anything far bigger is not one. */
const MAX_CONFIGURATION_BYTES = 64 * 1024;

/**
 * PutBucket (`PUT /` on a bucket): creates the bucket in this endpoint's region, owned by the
 * caller's account. On a bucket that exists (OSS PutBucket and "HTTP status code 409" pages):
 * another account's → 409 BucketAlreadyExists; the caller's own → 200 and the ACL updated, unless
 * the call asks for another region, storage class or redundancy type, which cannot change (409
 * BucketAlreadyExists with the message OSS gives for each).
 */
export const putBucket: Action = async (req, ctx) => {
  const acl = aclOf(req);
  const configuration = await readConfiguration(req);
  const existing = ctx.store.bucketInfo(req.bucket);
  if (existing) {
    if (existing.ownerAccountId !== ctx.caller.accountId) throw alreadyExists(req.bucket);
    if (existing.region !== ctx.region) throw alreadyExists(req.bucket, "Bucket already exists can't modify location.");
    if (configuration.storageClass !== undefined && configuration.storageClass !== existing.storageClass) {
      throw alreadyExists(req.bucket, "Cannot modify existing bucket's storage class.");
    }
    if (configuration.dataRedundancyType !== undefined && configuration.dataRedundancyType !== existing.dataRedundancyType) {
      throw alreadyExists(req.bucket, "Bucket already exists can't modify data redundancy type.");
    }
    if (acl !== undefined) await ctx.store.setBucketAcl(req.bucket, acl);
  } else {
    const made = await ctx.store.createBucket(req.bucket, { region: ctx.region, ownerAccountId: ctx.caller.accountId, ...configuration, ...(acl ? { acl } : {}) });
    // Two PutBuckets of one new name from different accounts: the first one made it.
    if (made.ownerAccountId !== ctx.caller.accountId) throw alreadyExists(req.bucket);
  }
  return { status: 200, headers: { Location: `/${req.bucket}`, 'Content-Length': 0 } };
};

function alreadyExists(bucket: string, message?: string): OssError {
  return new OssError('BucketAlreadyExists', message, { details: { BucketName: bucket } });
}

function aclOf(req: OssRequest): BucketAcl | undefined {
  const acl = headerValue(req.headers, 'x-oss-acl');
  if (acl === undefined) return undefined;
  if (!(BUCKET_ACLS as readonly string[]).includes(acl)) {
    throw new OssError('InvalidArgument', `x-oss-acl must be one of ${BUCKET_ACLS.join(', ')}.`, { details: { ArgumentName: 'x-oss-acl', ArgumentValue: acl } });
  }
  return acl as BucketAcl;
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true });

async function readConfiguration(req: OssRequest): Promise<Partial<Pick<BucketInfo, 'storageClass' | 'dataRedundancyType'>>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_CONFIGURATION_BYTES) chunks.push(chunk);
  }
  if (size > MAX_CONFIGURATION_BYTES) throw new OssError('InvalidArgument', `The CreateBucketConfiguration is larger than ${MAX_CONFIGURATION_BYTES} bytes.`);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch {
    throw new OssError('InvalidArgument', 'The body is not a well-formed CreateBucketConfiguration document.');
  }
  const config = (doc as { CreateBucketConfiguration?: unknown }).CreateBucketConfiguration;
  if (config === undefined) throw new OssError('InvalidArgument', 'The body must be a CreateBucketConfiguration document.');
  const fields = typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : {};
  const out: Partial<Pick<BucketInfo, 'storageClass' | 'dataRedundancyType'>> = {};
  if (fields.StorageClass !== undefined) out.storageClass = oneOf(fields.StorageClass, STORAGE_CLASSES, 'StorageClass') as StorageClass;
  if (fields.DataRedundancyType !== undefined) out.dataRedundancyType = oneOf(fields.DataRedundancyType, REDUNDANCY_TYPES, 'DataRedundancyType') as RedundancyType;
  return out;
}

function oneOf(value: unknown, allowed: readonly string[], name: string): string {
  if (typeof value === 'string' && allowed.includes(value)) return value;
  throw new OssError('InvalidArgument', `${name} must be one of ${allowed.join(', ')}.`, { details: { ArgumentName: name, ArgumentValue: String(value) } });
}
