import { queueXml } from './shared.ts';
import type { Action } from './types.ts';

/** GetQueueAttributes: `GET /queues/<name>` → 200 `<Queue>` with attributes and message counts. */
export const getQueueAttributes: Action = async (req, { store }) => {
  const info = await store.getQueueAttributes(req.queueName);
  return { status: 200, xml: { root: 'Queue', content: queueXml(info) } };
};
