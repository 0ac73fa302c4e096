import { MnsError } from '../errors.ts';
import type { Action } from './types.ts';

/**
 * DeleteMessage: `DELETE /queues/<name>/messages?ReceiptHandle=<rh>` → 204. A malformed, expired or
 * superseded handle → 400 ReceiptHandleError; a handle whose message is gone → 404 MessageNotExist.
 */
export const deleteMessage: Action = async (req, { store }) => {
  const handle = req.query.receipthandle;
  if (handle === undefined || handle === '') throw new MnsError('MissingReceiptHandle');
  await store.deleteMessage(req.queueName, handle);
  return { status: 204 };
};
