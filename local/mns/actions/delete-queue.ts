import type { Action } from './types.ts';

/** DeleteQueue: `DELETE /queues/<name>` → 204, also when there was no such queue (no error is documented). */
export const deleteQueue: Action = async (req, { store }) => {
  await store.deleteQueue(req.queueName);
  return { status: 204 };
};
