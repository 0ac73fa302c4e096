/**
 * Routing: which operation a verified request asks for.
 */
import { OssError } from '../errors.ts';
import { SIGNED_SUBRESOURCES } from '../signature.ts';
import type { Query } from '../wire.ts';
import { deleteBucketLifecycle } from './delete-bucket-lifecycle.ts';
import { deleteBucket } from './delete-bucket.ts';
import { deleteObject } from './delete-object.ts';
import { getBucketInfo } from './get-bucket-info.ts';
import { getBucketLifecycle } from './get-bucket-lifecycle.ts';
import { getObject } from './get-object.ts';
import { headObject } from './head-object.ts';
import { listBuckets } from './list-buckets.ts';
import { listObjectsV2 } from './list-objects-v2.ts';
import { listObjects } from './list-objects.ts';
import { putBucketLifecycle } from './put-bucket-lifecycle.ts';
import { putBucket } from './put-bucket.ts';
import { putObject } from './put-object.ts';
import type { Action } from './types.ts';

/** The operations the local OSS serves, by their API name. */
export const ACTIONS = {
  PutObject: putObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  PutBucket: putBucket,
  DeleteBucket: deleteBucket,
  GetBucketInfo: getBucketInfo,
  PutBucketLifecycle: putBucketLifecycle,
  GetBucketLifecycle: getBucketLifecycle,
  DeleteBucketLifecycle: deleteBucketLifecycle,
  ListBuckets: listBuckets,
} as const satisfies Record<string, Action>;

/** API name of a served operation, as in the log lines. */
export type ActionName = keyof typeof ACTIONS;

/**
 * Picks the service-level operation (`/` on a host that names no bucket): only ListBuckets is served.
 * @throws OssError NotImplemented for the others (DescribeRegions, …)
 */
export function routeService(method: string, query: Query): 'ListBuckets' {
  const other = [...query.keys()].filter((k) => SIGNED_SUBRESOURCES.has(k) && !NEUTRAL_SUBRESOURCES.has(k));
  if (method === 'GET' && other.length === 0) return 'ListBuckets';
  throw new OssError('NotImplemented', `${method} on the service${other.length > 0 ? ` with ?${other[0]}` : ''} is not emulated by the local OSS; only ListBuckets (GET /) is.`);
}

/** Methods OSS has some operation for; anything else is MethodNotAllowed rather than NotImplemented. */
const OSS_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'OPTIONS']);

/**
 * Sub-resources that do not turn a request into another operation: they modify or authenticate the
 * plain one. Any other sub-resource (`?acl`, `?tagging`, `?uploads`, …) names an operation the
 * emulator does not have, and silently answering the plain operation instead would be wrong.
 */
const NEUTRAL_SUBRESOURCES = new Set([
  'continuation-token',
  'security-token',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
]);

/** Bucket operations named by a sub-resource, by the sub-resource and the method. */
const BUCKET_SUBRESOURCE_OPERATIONS: Record<string, Partial<Record<string, ActionName>>> = {
  bucketInfo: { GET: 'GetBucketInfo' },
  lifecycle: { PUT: 'PutBucketLifecycle', GET: 'GetBucketLifecycle', DELETE: 'DeleteBucketLifecycle' },
};

/**
 * Picks the operation for a method on a bucket (`key` `''`) or an object.
 * @throws OssError MethodNotAllowed for a method OSS does not know, NotImplemented for a real OSS
 *   operation the emulator does not provide
 */
export function route(method: string, key: string, query: Query): ActionName {
  if (!OSS_METHODS.has(method)) {
    throw new OssError('MethodNotAllowed', undefined, { details: { Method: method, ResourceType: key === '' ? 'Bucket' : 'Object' } });
  }
  const other = [...query.keys()].filter((k) => SIGNED_SUBRESOURCES.has(k) && !NEUTRAL_SUBRESOURCES.has(k));
  // `?objectMeta` (ali-oss getObjectMeta) is a lighter HeadObject; `?versionId=null` names the only
  // version an unversioned bucket has; `?bucketInfo` and `?lifecycle` name bucket operations.
  const bucketOperation = key === '' && other.length === 1 ? BUCKET_SUBRESOURCE_OPERATIONS[other[0]!]?.[method] : undefined;
  const served = other.filter((k) => !(k === 'objectMeta' && method === 'HEAD' && key !== '') && !(k === 'versionId' && query.get(k) === 'null') && !bucketOperation);
  if (served.length > 0) {
    throw new OssError('NotImplemented', `The sub-resource "${served[0]}" (${method} ${key === '' ? 'bucket' : 'object'}) is not emulated by the local OSS.`);
  }
  if (key === '') {
    if (bucketOperation) return bucketOperation;
    if (method === 'PUT') return 'PutBucket';
    if (method === 'DELETE') return 'DeleteBucket';
    if (method === 'GET') {
      const listType = query.get('list-type');
      if (listType === '2') return 'ListObjectsV2';
      if (listType !== undefined && listType !== null && listType !== '') {
        throw new OssError('InvalidArgument', 'list-type must be 2.', { details: { ArgumentName: 'list-type', ArgumentValue: listType } });
      }
      return 'ListObjects';
    }
    throw new OssError('NotImplemented', `${method} on a bucket (PostObject, CORS …) is not emulated by the local OSS.`);
  }
  switch (method) {
    case 'PUT':
      return 'PutObject';
    case 'GET':
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      return 'DeleteObject';
    default:
      throw new OssError('NotImplemented', `${method} on an object (AppendObject, multipart upload, SelectObject, CORS …) is not emulated by the local OSS.`);
  }
}
