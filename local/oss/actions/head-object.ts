import { OssError } from '../errors.ts';
import { notModified, objectHeaders } from './object-headers.ts';
import type { Action, OssResponse } from './types.ts';

/**
 * HeadObject: GetObject's headers without the body. With `?objectMeta` (ali-oss `getObjectMeta`)
 * only the basic ones: ETag, size and Last-Modified. Errors go out without a body; the server puts
 * them in `x-oss-err` instead.
 */
export const headObject: Action = async (req, ctx): Promise<OssResponse> => {
  const record = ctx.store.head(req.bucket, req.key);
  if (!record) throw new OssError('NoSuchKey', undefined, { details: { Key: req.key } });
  const headers = objectHeaders(record);
  if (req.query.has('objectMeta')) {
    return { status: 200, headers: { ETag: headers.ETag!, 'Last-Modified': headers['Last-Modified']!, 'Content-Length': record.size } };
  }
  if (notModified(record, req.headers)) return { status: 304, headers: { ETag: headers.ETag!, 'Last-Modified': headers['Last-Modified']! } };
  return { status: 200, headers: { ...headers, 'Content-Length': record.size } };
};
