import { MnsError } from '../errors.ts';
import { VISIBILITY_TIMEOUT_RANGE } from '../messages.ts';
import { intParam } from './shared.ts';
import type { Action } from './types.ts';

/**
 * ChangeMessageVisibility: `PUT /queues/<name>/messages?receiptHandle=<rh>&visibilityTimeout=1..43200`
 * → 200 `<ChangeVisibility><ReceiptHandle/><NextVisibleTime/></ChangeVisibility>`. The timeout counts
 * from now; the returned handle replaces the old one, which stops working.
 */
export const changeMessageVisibility: Action = async (req, { store }) => {
  const handle = req.query.receipthandle;
  if (handle === undefined || handle === '') throw new MnsError('MissingReceiptHandle');
  const [low, high] = VISIBILITY_TIMEOUT_RANGE;
  const seconds = intParam(req.query, 'visibilitytimeout', 'visibilityTimeout', low, high);
  if (seconds === undefined) throw new MnsError('MissingVisibilityTimeout');
  const changed = await store.changeVisibility(req.queueName, handle, seconds);
  return {
    status: 200,
    xml: { root: 'ChangeVisibility', content: { ReceiptHandle: changed.receiptHandle, NextVisibleTime: changed.nextVisibleTime } },
  };
};
