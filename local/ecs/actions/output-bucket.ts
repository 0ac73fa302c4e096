import { ApiError } from '../../../shared/cloud-assistant/errors.ts';
import { parseOssOutputDelivery, type OutputDelivery } from '../output-delivery.ts';

/** OssOutputDelivery names a bucket that must exist when the call is made (seed 001). */
export async function checkOutputBucket(value: string | undefined, delivery: OutputDelivery | undefined): Promise<void> {
  if (!value) return;
  const target = parseOssOutputDelivery(value);
  if (target && (!delivery || !(await delivery.bucketExists(target.bucket))))
    throw new ApiError('InvalidOssOutputDelivery.BucketNotFound', `No bucket ${target.bucket} in this local cloud.`);
}
