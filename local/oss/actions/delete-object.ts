import type { Action } from './types.ts';

/** DeleteObject: 204 whether or not the key existed, as OSS answers. */
export const deleteObject: Action = async (req, ctx) => {
  await ctx.store.delete(req.bucket, req.key);
  return { status: 204, headers: {} };
};
