import { MnsError } from '../errors.ts';
import { asElement, childList, type XmlValue } from '../xml.ts';
import { MAX_BATCH, parseSendInput } from './shared.ts';
import type { Action } from './types.ts';

/** Largest total of message bodies in one BatchSendMessage, in bytes. */
export const MAX_BATCH_SEND_BYTES = 64 * 1024;

/**
 * BatchSendMessage: `POST /queues/<name>/messages` with `<Messages><Message>…</Message>…</Messages>`,
 * 1–16 messages whose bodies total at most 64 KB → 201 `<Messages>` with one `<Message>` per input.
 * A batch breaking a limit is refused whole (400 InvalidArgument): nothing is half-sent.
 */
export const batchSendMessage: Action = async (req, { store }) => {
  const doc = req.xml();
  if (doc.root !== 'Messages') throw new MnsError('MalformedXML', `Expected a <Messages> document, got <${doc.root}>.`);
  const items = childList(doc.content, 'Message');
  if (items.length === 0 || items.length > MAX_BATCH) {
    throw new MnsError('InvalidArgument', `A batch must hold between 1 and ${MAX_BATCH} messages; got ${items.length}.`);
  }
  const inputs = items.map((item: XmlValue) => parseSendInput(asElement(item, 'Message')));
  const total = inputs.reduce((n, i) => n + Buffer.byteLength(i.body, 'utf8'), 0);
  if (total > MAX_BATCH_SEND_BYTES) {
    throw new MnsError('InvalidArgument', `The messages of a batch may total at most ${MAX_BATCH_SEND_BYTES} bytes; got ${total}.`);
  }
  const sent = await store.sendMessages(req.queueName, inputs);
  return {
    status: 201,
    xml: { root: 'Messages', content: { Message: sent.map((s) => ({ MessageId: s.messageId, MessageBodyMD5: s.bodyMd5 })) } },
  };
};
