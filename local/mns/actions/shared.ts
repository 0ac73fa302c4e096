/** Parameter parsing and response rendering that several actions share. */
import { MnsError, outOfRange } from '../errors.ts';
import type { MessageView, ReceivedMessage, SendInput } from '../messages.ts';
import type { QueueInfo } from '../queue-store.ts';
import { childText, type XmlElement, type XmlOut } from '../xml.ts';

/**
 * A whole-number query parameter.
 * @returns undefined when absent
 * @throws MnsError `InvalidQueryString` when not a number, `InvalidArgument` when out of range
 */
export function intParam(query: Readonly<Record<string, string>>, key: string, display: string, low: number, high: number): number | undefined {
  const raw = query[key];
  if (raw === undefined) return undefined;
  if (!/^\d{1,10}$/.test(raw)) throw new MnsError('InvalidQueryString', `The query item ${display}="${raw.slice(0, 64)}" is not a whole number.`);
  const n = Number(raw);
  if (n < low || n > high) throw outOfRange(display, low, high);
  return n;
}

/** `true` / `false` query flag; absent is false. */
export function flagParam(query: Readonly<Record<string, string>>, key: string, display: string): boolean {
  const raw = query[key];
  if (raw === undefined) return false;
  const v = raw.toLowerCase();
  if (v !== 'true' && v !== 'false') throw new MnsError('InvalidQueryString', `The query item ${display} must be true or false.`);
  return v === 'true';
}

/** One `<Message>` of a send request. Only MessageBody, DelaySeconds and Priority are read. */
export function parseSendInput(message: XmlElement): SendInput {
  const body = childText(message, 'MessageBody');
  if (body === undefined) throw new MnsError('InvalidArgument', 'MessageBody is required.');
  const input: SendInput = { body };
  const delay = childText(message, 'DelaySeconds')?.trim();
  if (delay !== undefined && delay !== '') input.delaySeconds = wholeNumber(delay, 'DelaySeconds');
  const priority = childText(message, 'Priority')?.trim();
  if (priority !== undefined && priority !== '') input.priority = wholeNumber(priority, 'Priority');
  return input;
}

function wholeNumber(text: string, name: string): number {
  if (!/^-?\d{1,10}$/.test(text)) throw new MnsError('InvalidArgument', `${name} must be a whole number.`);
  return Number(text);
}

/** The `<Message>` fields of a ReceiveMessage answer; times in epoch milliseconds. */
export function receivedXml(m: ReceivedMessage): { [name: string]: XmlOut | undefined } {
  return {
    MessageId: m.messageId,
    ReceiptHandle: m.receiptHandle,
    MessageBodyMD5: m.bodyMd5,
    MessageBody: m.body,
    EnqueueTime: m.enqueueTime,
    NextVisibleTime: m.nextVisibleTime,
    FirstDequeueTime: m.firstDequeueTime,
    DequeueCount: m.dequeueCount,
    Priority: m.priority,
  };
}

/** The `<Message>` fields of a PeekMessage answer: no receipt handle, no NextVisibleTime. */
export function peekedXml(m: MessageView): { [name: string]: XmlOut | undefined } {
  return {
    MessageId: m.messageId,
    MessageBodyMD5: m.bodyMd5,
    MessageBody: m.body,
    EnqueueTime: m.enqueueTime,
    FirstDequeueTime: m.firstDequeueTime,
    DequeueCount: m.dequeueCount,
    Priority: m.priority,
  };
}

/** The `<Queue>` fields of GetQueueAttributes. Queue times are epoch SECONDS, as the API documents. */
export function queueXml(q: QueueInfo): { [name: string]: XmlOut | undefined } {
  return {
    QueueName: q.name,
    CreateTime: Math.floor(q.createTime / 1000),
    LastModifyTime: Math.floor(q.lastModifyTime / 1000),
    DelaySeconds: q.DelaySeconds,
    MaximumMessageSize: q.MaximumMessageSize,
    MessageRetentionPeriod: q.MessageRetentionPeriod,
    VisibilityTimeout: q.VisibilityTimeout,
    PollingWaitSeconds: q.PollingWaitSeconds,
    ActiveMessages: q.activeMessages,
    InactiveMessages: q.inactiveMessages,
    DelayMessages: q.delayMessages,
    LoggingEnabled: q.LoggingEnabled ? 'True' : 'False',
  };
}

/** The URL of a queue as clients should use it. */
export function queueUrl(baseUrl: string, name: string): string {
  return `${baseUrl}/queues/${name}`;
}

/** Most messages one batch call may carry. */
export const MAX_BATCH = 16;
