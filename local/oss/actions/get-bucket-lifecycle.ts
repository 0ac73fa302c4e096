import { OssError } from '../errors.ts';
import type { Action } from './types.ts';
import { renderLifecycleXml } from './lifecycle-xml.ts';

/** GetBucketLifecycle (`GET /?lifecycle`): the rules as stored; 404 NoSuchLifecycle when the bucket has none. */
export const getBucketLifecycle: Action = async (req, ctx) => {
  const rules = ctx.store.bucketInfo(req.bucket)?.lifecycle;
  if (!rules || rules.length === 0) throw new OssError('NoSuchLifecycle', undefined, { details: { BucketName: req.bucket } });
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body: renderLifecycleXml(rules) };
};
