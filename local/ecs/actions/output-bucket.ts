/**
 * What RunCommand and InvokeCommand check of an OssOutputDelivery bucket before anything runs
 * (seed 001's error table). The service-linked role comes first: Cloud Assistant looks at the
 * bucket through it (its policy grants `oss:GetBucketInfo`, service-linked-role.ts), so without the
 * role there is nothing to look with. Then, as GetBucketInfo answers: no such bucket; another
 * account's bucket (OSS refuses before it says where the bucket is); a bucket of another region.
 */
import { ECS_ERRORS, EcsApiError } from '../api-error.ts';
import { parseOssOutputDelivery } from '../output-delivery.ts';
import type { ActionContext } from './types.ts';

/** OSS's AccessDenied message for another account's bucket (OSS troubleshooting page 0003-00000001). */
export const OSS_NOT_YOUR_BUCKET = 'The bucket you access does not belong to you.';

export async function checkOutputBucket(value: string | undefined, ctx: ActionContext): Promise<void> {
  if (!value) return;
  const target = parseOssOutputDelivery(value);
  if (!target) return;
  const delivery = ctx.outputDelivery;
  // Without an OSS there is no bucket to find, and no reason to make a role for reaching one.
  if (!delivery) throw new EcsApiError('InvalidOssOutputDelivery.BucketNotFound', `No bucket ${target.bucket}: this local Cloud Assistant has no OSS.`);
  ctx.serviceLinkedRole.ensure(ctx.caller, ctx.authorize);
  const info = await delivery.bucketInfo(target.bucket);
  if (!info) throw new EcsApiError('InvalidOssOutputDelivery.BucketNotFound', `No bucket ${target.bucket}.`);
  if (info.ownerAccountId !== ctx.accountId) throw bucketAccessDenied(OSS_NOT_YOUR_BUCKET);
  if (info.region !== ctx.regionId) {
    throw new EcsApiError('InvalidOssOutputDelivery.BucketInOtherRegion', `Bucket ${target.bucket} is in ${info.region}, the instances in ${ctx.regionId}.`);
  }
}

/** The seed's message carries OSS's own in place of its `%s`. */
function bucketAccessDenied(ossMessage: string): EcsApiError {
  const error = new EcsApiError('InvalidOssOutputDelivery.BucketAccessDenied');
  error.message = ECS_ERRORS['InvalidOssOutputDelivery.BucketAccessDenied'][1].replace('%s', ossMessage);
  return error;
}
