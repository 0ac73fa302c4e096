import { isoDate } from '../wire.ts';
import { renderXml } from '../xml.ts';
import type { Action } from './types.ts';

/**
 * GetBucketInfo (`GET /?bucketInfo`): the bucket's region, endpoints, owner, creation date,
 * storage class, redundancy and ACL, in the element order of the OSS GetBucketInfo page. Any OSS
 * endpoint may ask, whatever the bucket's region (same page); only the owner gets an answer.
 */
export const getBucketInfo: Action = async (req, ctx) => {
  const info = ctx.store.bucketInfo(req.bucket)!;
  const body = renderXml('BucketInfo', {
    Bucket: {
      CreationDate: isoDate(info.creationDate),
      ExtranetEndpoint: `${info.region}.aliyuncs.com`,
      IntranetEndpoint: `${info.region}-internal.aliyuncs.com`,
      Location: info.region,
      StorageClass: info.storageClass,
      Name: info.name,
      Owner: { DisplayName: info.ownerAccountId, ID: info.ownerAccountId },
      AccessControlList: { Grant: info.acl },
      DataRedundancyType: info.dataRedundancyType,
    },
  });
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
};
