import { MnsError } from '../errors.ts';
import { MAX_BATCH, intParam, peekedXml } from './shared.ts';
import type { Action } from './types.ts';

/** BatchPeekMessage: `GET /queues/<name>/messages?peekonly=true&numOfMessages=1..16` → 200 `<Messages>`. */
export const batchPeekMessage: Action = async (req, { store }) => {
  const max = intParam(req.query, 'numofmessages', 'numOfMessages', 1, MAX_BATCH) ?? MAX_BATCH;
  const messages = await store.peekMessages(req.queueName, max);
  if (messages.length === 0) throw new MnsError('MessageNotExist');
  return { status: 200, xml: { root: 'Messages', content: { Message: messages.map(peekedXml) } } };
};
