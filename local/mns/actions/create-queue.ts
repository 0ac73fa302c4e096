import { MnsError } from '../errors.ts';
import { parseQueueAttributes } from '../queue-attributes.ts';
import { queueUrl } from './shared.ts';
import type { Action } from './types.ts';

/**
 * CreateQueue: `PUT /queues/<name>` with a `<Queue>` body of attributes (an empty body means defaults).
 * 201 with Location when created; 204 when an identical queue exists; 409 QueueAlreadyExist otherwise.
 */
export const createQueue: Action = async (req, { store }) => {
  const attributes = req.body.length === 0 ? {} : queueDocument(req);
  const outcome = await store.createQueue(req.queueName, attributes);
  return outcome === 'created'
    ? { status: 201, headers: { location: queueUrl(req.baseUrl, req.queueName) } }
    : { status: 204 };
};

/** The `<Queue>` document of CreateQueue and SetQueueAttributes. */
export function queueDocument(req: Parameters<Action>[0]): ReturnType<typeof parseQueueAttributes> {
  const doc = req.xml();
  if (doc.root !== 'Queue') throw new MnsError('MalformedXML', `Expected a <Queue> document, got <${doc.root}>.`);
  return parseQueueAttributes(doc.content);
}
