import type { Action } from './types.ts';

/** DeleteBucket: 204 once the bucket is gone; 409 BucketNotEmpty while it holds an object (store.ts). */
export const deleteBucket: Action = async (req, ctx) => {
  await ctx.store.deleteBucket(req.bucket);
  return { status: 204, headers: {} };
};
