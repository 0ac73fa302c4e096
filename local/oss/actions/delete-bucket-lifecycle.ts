import type { Action } from './types.ts';

/** DeleteBucketLifecycle (`DELETE /?lifecycle`): removes every rule; 204, also when there were none (OSS DeleteBucketLifecycle page). */
export const deleteBucketLifecycle: Action = async (req, ctx) => {
  await ctx.store.setBucketLifecycle(req.bucket, undefined);
  return { status: 204, headers: {} };
};
