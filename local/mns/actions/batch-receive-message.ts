import { MnsError } from '../errors.ts';
import { MAX_BATCH, intParam, receivedXml } from './shared.ts';
import { waitOption } from './receive-message.ts';
import type { Action } from './types.ts';

/**
 * BatchReceiveMessage: `GET /queues/<name>/messages?numOfMessages=1..16[&waitseconds=0..30]` → 200
 * `<Messages>`. Returns as soon as at least one message is available, not when `numOfMessages` are.
 */
export const batchReceiveMessage: Action = async (req, { store }) => {
  const max = intParam(req.query, 'numofmessages', 'numOfMessages', 1, MAX_BATCH) ?? MAX_BATCH;
  const messages = await store.receiveMessages(req.queueName, { max, ...waitOption(req), signal: req.signal });
  if (messages.length === 0) throw new MnsError('MessageNotExist');
  return { status: 200, xml: { root: 'Messages', content: { Message: messages.map(receivedXml) } } };
};
