import { MnsError } from '../errors.ts';
import { intParam, receivedXml } from './shared.ts';
import type { Action, ActionRequest } from './types.ts';

/** Longest long-polling wait, in seconds (the SDK's read timeout is 40 s). */
export const MAX_WAIT_SECONDS = 30;

/**
 * ReceiveMessage: `GET /queues/<name>/messages[?waitseconds=0..30]` → 200 `<Message>`; without
 * `waitseconds` the queue's PollingWaitSeconds applies. Nothing visible by the end of the wait →
 * 404 MessageNotExist.
 */
export const receiveMessage: Action = async (req, { store }) => {
  const [m] = await store.receiveMessages(req.queueName, { max: 1, ...waitOption(req), signal: req.signal });
  if (!m) throw new MnsError('MessageNotExist');
  return { status: 200, xml: { root: 'Message', content: receivedXml(m) } };
};

/** `waitseconds` as the store wants it; absent means "the queue's default". */
export function waitOption(req: ActionRequest): { waitMs?: number } {
  const seconds = intParam(req.query, 'waitseconds', 'waitseconds', 0, MAX_WAIT_SECONDS);
  return seconds === undefined ? {} : { waitMs: seconds * 1000 };
}
