import { queueDocument } from './create-queue.ts';
import type { Action } from './types.ts';

/** SetQueueAttributes: `PUT /queues/<name>?metaoverride=true`; only the attributes given change. 204. */
export const setQueueAttributes: Action = async (req, { store }) => {
  const attributes = req.body.length === 0 ? {} : queueDocument(req);
  await store.setQueueAttributes(req.queueName, attributes);
  return { status: 204 };
};
