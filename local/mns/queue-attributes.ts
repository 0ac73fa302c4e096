/**
 * Queue attributes, their ranges and defaults (docs/platform-facts.md §8.2), and how they are read
 * from a `<Queue>` request document.
 */
import { MnsError, outOfRange } from './errors.ts';
import { childText, type XmlElement } from './xml.ts';

/** The settable attributes of a queue, in the units the API uses (seconds, bytes). */
export interface QueueAttributes {
  /** Delay before a newly sent message becomes visible, 0–604800 s. */
  DelaySeconds: number;
  /** Largest accepted message body, 1024–65536 bytes. */
  MaximumMessageSize: number;
  /** How long a message is kept, 60–604800 s. */
  MessageRetentionPeriod: number;
  /** How long a received message stays invisible, 1–43200 s. */
  VisibilityTimeout: number;
  /** Long-polling wait used when a receive names none, 0–30 s. */
  PollingWaitSeconds: number;
  /** Stored and reported only; the emulator has no log service to send to. */
  LoggingEnabled: boolean;
}

/** What a queue gets for an attribute the creator did not give. */
export const DEFAULT_QUEUE_ATTRIBUTES: Readonly<QueueAttributes> = Object.freeze({
  DelaySeconds: 0,
  MaximumMessageSize: 65536,
  MessageRetentionPeriod: 345600,
  VisibilityTimeout: 30,
  PollingWaitSeconds: 0,
  LoggingEnabled: false,
});

type NumericAttribute = Exclude<keyof QueueAttributes, 'LoggingEnabled'>;

/** Inclusive ranges of the numeric attributes, with the unit used in error messages. */
export const QUEUE_ATTRIBUTE_RANGES: Readonly<Record<NumericAttribute, readonly [number, number, string]>> = Object.freeze({
  DelaySeconds: [0, 604800, 'seconds'],
  MaximumMessageSize: [1024, 65536, 'bytes'],
  MessageRetentionPeriod: [60, 604800, 'seconds'],
  VisibilityTimeout: [1, 43200, 'seconds'],
  PollingWaitSeconds: [0, 30, 'seconds'],
});

const NUMERIC = Object.keys(QUEUE_ATTRIBUTE_RANGES) as NumericAttribute[];

/**
 * Checks attribute values given in code (e.g. the emulator's `queues` option) against the API ranges.
 * @throws MnsError `InvalidArgument`
 */
export function validateQueueAttributes(attrs: Partial<QueueAttributes>): Partial<QueueAttributes> {
  const out: Partial<QueueAttributes> = {};
  for (const name of NUMERIC) {
    const v = attrs[name];
    if (v === undefined) continue;
    const [low, high, unit] = QUEUE_ATTRIBUTE_RANGES[name];
    if (!Number.isInteger(v) || v < low || v > high) throw outOfRange(name, low, high, unit);
    out[name] = v;
  }
  if (attrs.LoggingEnabled !== undefined) out.LoggingEnabled = attrs.LoggingEnabled === true;
  return out;
}

/**
 * Reads the attributes present in a `<Queue>` document; unknown elements are ignored, as newer API
 * versions add some (e.g. dead-letter policy) that this emulator does not model.
 * @throws MnsError `InvalidArgument` for a value that is not a whole number in range
 */
export function parseQueueAttributes(content: XmlElement): Partial<QueueAttributes> {
  const out: Partial<QueueAttributes> = {};
  for (const name of NUMERIC) {
    const text = childText(content, name)?.trim();
    if (text === undefined) continue;
    const [low, high, unit] = QUEUE_ATTRIBUTE_RANGES[name];
    if (!/^-?\d{1,10}$/.test(text)) throw outOfRange(name, low, high, unit);
    out[name] = Number(text);
  }
  const logging = childText(content, 'LoggingEnabled')?.trim().toLowerCase();
  if (logging !== undefined) {
    if (logging !== 'true' && logging !== 'false') throw new MnsError('InvalidArgument', 'LoggingEnabled must be true or false.');
    out.LoggingEnabled = logging === 'true';
  }
  return validateQueueAttributes(out);
}

/** Defaults filled in, so two creations can be compared attribute by attribute. */
export function withDefaults(attrs: Partial<QueueAttributes>): QueueAttributes {
  return { ...DEFAULT_QUEUE_ATTRIBUTES, ...attrs };
}

/** Whether two complete attribute sets are the same. */
export function sameAttributes(a: QueueAttributes, b: QueueAttributes): boolean {
  return (Object.keys(DEFAULT_QUEUE_ATTRIBUTES) as (keyof QueueAttributes)[]).every((k) => a[k] === b[k]);
}

/** Longest queue name the API accepts. */
export const MAX_QUEUE_NAME_LENGTH = 256;
const QUEUE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/**
 * @throws MnsError `QueueNameLengthError` or `InvalidQueueName`. Because only letters, digits and
 *   hyphens pass, a valid name is also a safe directory name.
 */
export function checkQueueName(name: string): void {
  if (name.length > MAX_QUEUE_NAME_LENGTH) throw new MnsError('QueueNameLengthError');
  if (!QUEUE_NAME_RE.test(name)) throw new MnsError('InvalidQueueName');
}
