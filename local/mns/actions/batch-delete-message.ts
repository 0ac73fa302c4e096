import { MnsError } from '../errors.ts';
import { childList } from '../xml.ts';
import { MAX_BATCH } from './shared.ts';
import type { Action } from './types.ts';

/**
 * BatchDeleteMessage: `DELETE /queues/<name>/messages` with `<ReceiptHandles><ReceiptHandle/>…</ReceiptHandles>`
 * (1–16). 204 when every handle worked; otherwise the valid ones are still deleted and the answer is
 * 404 `<Errors><Error><ErrorCode/><ErrorMessage/><ReceiptHandle/></Error>…</Errors>` — not an `<Error>`
 * document, so the SDK returns it (`{code: 404, body: [...]}`) instead of throwing.
 */
export const batchDeleteMessage: Action = async (req, { store }) => {
  const doc = req.xml();
  if (doc.root !== 'ReceiptHandles') throw new MnsError('MalformedXML', `Expected a <ReceiptHandles> document, got <${doc.root}>.`);
  const handles = childList(doc.content, 'ReceiptHandle').map((h) => {
    if (typeof h !== 'string') throw new MnsError('MalformedXML', '<ReceiptHandle> must contain text.');
    return h.trim();
  });
  if (handles.length === 0) throw new MnsError('MissingReceiptHandle');
  if (handles.length > MAX_BATCH) throw new MnsError('InvalidArgument', `At most ${MAX_BATCH} receipt handles per batch; got ${handles.length}.`);
  const failures = await store.deleteMessages(req.queueName, handles);
  if (failures.length === 0) return { status: 204 };
  return {
    status: 404,
    xml: {
      root: 'Errors',
      content: { Error: failures.map((f) => ({ ErrorCode: f.code, ErrorMessage: f.message, ReceiptHandle: f.receiptHandle })) },
    },
  };
};
