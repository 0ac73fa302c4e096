import { createHash } from 'node:crypto';
import { OssError } from '../errors.ts';
import { checkLifecycle } from '../lifecycle.ts';
import { headerValue } from '../wire.ts';
import { parseLifecycleXml } from './lifecycle-xml.ts';
import type { Action, OssRequest } from './types.ts';

/**
 * Guard against holding an endless body in memory, not an OSS limit: 1,000 rules with 255-byte IDs
 * and 1,023-byte prefixes fit in well under 2 MiB, so no configuration OSS accepts comes near it.
 */
const MAX_LIFECYCLE_BODY_BYTES = 16 * 1024 * 1024;

/**
 * PutBucketLifecycle (`PUT /?lifecycle`): replaces the bucket's whole lifecycle configuration
 * (OSS: "overwrites the existing configurations") once every rule checks out (lifecycle.ts), and
 * keeps it in bucket.json. Expiration rules are carried out by the lifecycle sweep (lifecycle-sweep.ts).
 */
export const putBucketLifecycle: Action = async (req, ctx) => {
  const body = await readBody(req);
  const overlap = (headerValue(req.headers, 'x-oss-allow-same-action-overlap') ?? '').toLowerCase() === 'true';
  const rules = checkLifecycle(parseLifecycleXml(body), { allowSameActionOverlap: overlap });
  await ctx.store.setBucketLifecycle(req.bucket, rules);
  return { status: 200, headers: { 'Content-Length': 0 } };
};

/** The body as text, checked against Content-MD5 when the client sent one (ali-oss does). */
async function readBody(req: OssRequest): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_LIFECYCLE_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_LIFECYCLE_BODY_BYTES) throw new OssError('MalformedXML', `The body is ${size} bytes, far more than any LifecycleConfiguration; the local OSS reads at most ${MAX_LIFECYCLE_BODY_BYTES}.`);
  const bytes = Buffer.concat(chunks);
  const contentMd5 = headerValue(req.headers, 'content-md5');
  if (contentMd5 !== undefined) {
    const calculated = createHash('md5').update(bytes).digest('base64');
    if (calculated !== contentMd5) {
      throw new OssError('InvalidDigest', 'The Content-MD5 you specified is not the MD5 of the body that arrived.', { details: { ContentMD5Provided: contentMd5, ContentMD5Calculated: calculated } });
    }
  }
  return bytes.toString('utf8');
}
