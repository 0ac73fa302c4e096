import { MnsError } from '../errors.ts';
import { peekedXml } from './shared.ts';
import type { Action } from './types.ts';

/** PeekMessage: `GET /queues/<name>/messages?peekonly=true` → 200 `<Message>`; nothing changes, nothing waits. */
export const peekMessage: Action = async (req, { store }) => {
  const [m] = await store.peekMessages(req.queueName, 1);
  if (!m) throw new MnsError('MessageNotExist');
  return { status: 200, xml: { root: 'Message', content: peekedXml(m) } };
};
