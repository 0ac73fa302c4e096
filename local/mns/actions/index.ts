/**
 * Routing: which MNS operation a request is. MNS is REST-like, so the operation follows from the
 * method, the path and, where one URL serves several, the query (`peekonly`, `numOfMessages`,
 * `metaoverride`, `ReceiptHandle`) or the body's root element (`<Message>` vs `<Messages>`).
 */
import { MnsError } from '../errors.ts';
import { checkQueueName } from '../queue-attributes.ts';
import { batchDeleteMessage } from './batch-delete-message.ts';
import { batchPeekMessage } from './batch-peek-message.ts';
import { batchReceiveMessage } from './batch-receive-message.ts';
import { batchSendMessage } from './batch-send-message.ts';
import { changeMessageVisibility } from './change-message-visibility.ts';
import { createQueue } from './create-queue.ts';
import { deleteMessage } from './delete-message.ts';
import { deleteQueue } from './delete-queue.ts';
import { getQueueAttributes } from './get-queue-attributes.ts';
import { listQueue } from './list-queue.ts';
import { peekMessage } from './peek-message.ts';
import { receiveMessage } from './receive-message.ts';
import { sendMessage } from './send-message.ts';
import { setQueueAttributes } from './set-queue-attributes.ts';
import { flagParam } from './shared.ts';
import type { Action, ActionRequest } from './types.ts';

/** The operations the local MNS serves, by their API name. */
export const ACTIONS = {
  CreateQueue: createQueue,
  SetQueueAttributes: setQueueAttributes,
  GetQueueAttributes: getQueueAttributes,
  DeleteQueue: deleteQueue,
  ListQueue: listQueue,
  SendMessage: sendMessage,
  BatchSendMessage: batchSendMessage,
  ReceiveMessage: receiveMessage,
  BatchReceiveMessage: batchReceiveMessage,
  PeekMessage: peekMessage,
  BatchPeekMessage: batchPeekMessage,
  DeleteMessage: deleteMessage,
  BatchDeleteMessage: batchDeleteMessage,
  ChangeMessageVisibility: changeMessageVisibility,
} as const satisfies Record<string, Action>;

/** An MNS operation name. */
export type ActionName = keyof typeof ACTIONS;

const QUEUE_PATH_RE = /^\/queues\/([^/]+)(\/messages)?$/;

/**
 * Decides the operation and the queue of a request.
 * @param request everything but `queueName`, which this fills in
 * @throws MnsError `InvalidRequestURL` for a path or method MNS does not have (topics are not emulated),
 *   `InvalidQueueName` / `QueueNameLengthError` for a bad queue name
 */
export function route(method: string, pathname: string, request: Omit<ActionRequest, 'queueName'>): { name: ActionName; queueName: string } {
  if (pathname === '/queues' && method === 'GET') return { name: 'ListQueue', queueName: '' };
  const m = QUEUE_PATH_RE.exec(pathname);
  if (!m) {
    const what = pathname.startsWith('/topics') ? 'Topics are not served by the local MNS.' : `No MNS operation at ${pathname.slice(0, 128)}.`;
    throw new MnsError('InvalidRequestURL', what);
  }
  const queueName = m[1]!;
  checkQueueName(queueName);
  const { query } = request;
  if (!m[2]) {
    switch (method) {
      case 'PUT':
        return { name: flagParam(query, 'metaoverride', 'metaoverride') ? 'SetQueueAttributes' : 'CreateQueue', queueName };
      case 'GET':
        return { name: 'GetQueueAttributes', queueName };
      case 'DELETE':
        return { name: 'DeleteQueue', queueName };
    }
  } else {
    switch (method) {
      case 'POST':
        return { name: bodyRoot(request) === 'Messages' ? 'BatchSendMessage' : 'SendMessage', queueName };
      case 'GET': {
        const batch = query.numofmessages !== undefined;
        if (flagParam(query, 'peekonly', 'peekonly')) return { name: batch ? 'BatchPeekMessage' : 'PeekMessage', queueName };
        return { name: batch ? 'BatchReceiveMessage' : 'ReceiveMessage', queueName };
      }
      case 'DELETE':
        if (query.receipthandle === undefined && request.body.length > 0) return { name: 'BatchDeleteMessage', queueName };
        return { name: 'DeleteMessage', queueName };
      case 'PUT':
        return { name: 'ChangeMessageVisibility', queueName };
    }
  }
  throw new MnsError('InvalidRequestURL', `${method} is not an operation on ${pathname.slice(0, 128)}.`);
}

/** The root element, or undefined when the body does not parse (the action then reports MalformedXML). */
function bodyRoot(request: Omit<ActionRequest, 'queueName'>): string | undefined {
  try {
    return request.xml().root;
  } catch {
    return undefined;
  }
}
