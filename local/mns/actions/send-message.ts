import { MnsError } from '../errors.ts';
import { parseSendInput } from './shared.ts';
import type { Action } from './types.ts';

/**
 * SendMessage: `POST /queues/<name>/messages` with `<Message><MessageBody/><DelaySeconds/><Priority/></Message>`
 * → 201 `<Message><MessageId/><MessageBodyMD5/></Message>`.
 *
 * The SDK does not escape the body, so a raw `<` or `&` makes the document malformed and the answer is
 * MalformedXML: guessing where a body ends would silently corrupt some messages. fleetrun base64-encodes
 * every body, which never needs escaping.
 */
export const sendMessage: Action = async (req, { store }) => {
  const doc = req.xml();
  if (doc.root !== 'Message') throw new MnsError('MalformedXML', `Expected a <Message> document, got <${doc.root}>.`);
  const [sent] = await store.sendMessages(req.queueName, [parseSendInput(doc.content)]);
  return { status: 201, xml: { root: 'Message', content: { MessageId: sent!.messageId, MessageBodyMD5: sent!.bodyMd5 } } };
};
