/**
 * Bucket lifecycle rules as the local OSS keeps them: their shape, the checks PutBucketLifecycle
 * (and a preset bucket) must pass, and which rule, if any, has an object expire.
 *
 * What OSS documents and the emulator enforces (OSS PutBucketLifecycle API page and its
 * troubleshooting pages, cited by EC; docs/platform-facts.md §9.6):
 * - at most 1,000 rules (EC 0014-00000014); an ID of at most 255 bytes, unique, generated when empty;
 * - Status `Enabled` or `Disabled`;
 * - an Expiration (or AbortMultipartUpload) has exactly one of Days (a positive integer) and
 *   CreatedBeforeDate (`yyyy-MM-ddT00:00:00.000Z`, UTC midnight) (ECs 0014-00000060, -61, -87);
 * - a rule without any action is refused (EC 0014-00000026);
 * - prefixes must not overlap between rules with the same action, nor be equal (ECs 0014-00000084,
 *   -85), unless the request sends `x-oss-allow-same-action-overlap: true`.
 */
import { OssError } from './errors.ts';
import { randomHex } from '../random-hex.ts';
import { utf8Length } from './wire.ts';

/** When an action applies: a number of days after the last modification, or a date. */
export interface LifecycleTime {
  /** Days after the object's last modification (a positive integer). */
  days?: number;
  /** `yyyy-MM-ddT00:00:00.000Z`: objects last modified before this instant. */
  createdBeforeDate?: string;
}

/** One rule as stored in bucket.json and returned by GetBucketLifecycle. */
export interface LifecycleRule {
  id: string;
  /** Objects whose key starts with it; `''` is every object. */
  prefix: string;
  status: 'Enabled' | 'Disabled';
  /** Deletes matching objects once due. */
  expiration?: LifecycleTime;
  /**
   * Stored and returned only: the local OSS has no multipart uploads, so there are no parts for it
   * to abort.
   */
  abortMultipartUpload?: LifecycleTime;
}

/**
 * A rule as a caller writes it: ali-oss's `putBucketLifecycle` rule shape (`id` optional, as OSS
 * generates one), which is also what a preset bucket takes.
 */
export interface LifecycleRuleInput {
  id?: string;
  prefix?: string;
  status: string;
  expiration?: LifecycleTimeInput;
  abortMultipartUpload?: LifecycleTimeInput;
}

/** Days as a number or as the text of one (ali-oss takes both; XML carries text). */
export interface LifecycleTimeInput {
  days?: number | string;
  createdBeforeDate?: string;
}

/** Most rules one bucket may have (OSS PutBucketLifecycle: "a maximum of 1,000 rules"; EC 0014-00000014). */
export const MAX_LIFECYCLE_RULES = 1000;
/** Longest rule ID, in bytes (OSS PutBucketLifecycle: "ID … 255 bytes at most"). */
export const MAX_RULE_ID_BYTES = 255;

const RULE_STATUSES = ['Enabled', 'Disabled'] as const;
const MIDNIGHT_UTC_RE = /^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/;
const ACTIONS = ['expiration', 'abortMultipartUpload'] as const;
const ACTION_ELEMENTS: Record<(typeof ACTIONS)[number], string> = { expiration: 'Expiration', abortMultipartUpload: 'AbortMultipartUpload' };

/**
 * Checks a whole lifecycle configuration and returns it as stored (IDs filled in).
 * @throws OssError MalformedXML for no rules, InvalidArgument for any other broken rule
 */
export function checkLifecycle(rules: readonly LifecycleRuleInput[], options: { allowSameActionOverlap?: boolean } = {}): LifecycleRule[] {
  if (rules.length === 0) throw new OssError('MalformedXML', 'The LifecycleConfiguration has no Rule; it needs at least one.');
  if (rules.length > MAX_LIFECYCLE_RULES) {
    throw invalid(`The LifecycleConfiguration has ${rules.length} rules; a bucket may have at most ${MAX_LIFECYCLE_RULES}.`, '0014-00000014');
  }
  const checked = rules.map((rule, i) => checkRule(rule, i + 1));
  const seen = new Map<string, number>();
  checked.forEach((rule, i) => {
    const first = seen.get(rule.id);
    if (first !== undefined) throw invalid(`Rules ${first} and ${i + 1} have the same ID "${rule.id}"; rule IDs must be unique.`);
    seen.set(rule.id, i + 1);
  });
  if (!options.allowSameActionOverlap) checkOverlaps(checked);
  return checked;
}

function checkRule(rule: LifecycleRuleInput, n: number): LifecycleRule {
  const status = rule.status;
  if (!(RULE_STATUSES as readonly string[]).includes(status)) {
    throw invalid(`Rule ${n}: Status must be Enabled or Disabled, got "${status}".`, undefined, { ArgumentName: 'Status', ArgumentValue: String(status) });
  }
  const id = rule.id === undefined || rule.id === '' ? randomHex(16) : rule.id;
  if (utf8Length(id) > MAX_RULE_ID_BYTES) throw invalid(`Rule ${n}: the ID is ${utf8Length(id)} bytes; at most ${MAX_RULE_ID_BYTES} are allowed.`);
  const prefix = rule.prefix ?? '';
  if (typeof prefix !== 'string') throw invalid(`Rule ${n}: Prefix must be text.`);
  if (rule.expiration === undefined && rule.abortMultipartUpload === undefined) {
    throw invalid(`Rule ${n} has no action: give it an Expiration or an AbortMultipartUpload.`, '0014-00000026');
  }
  const out: LifecycleRule = { id, prefix, status: status as LifecycleRule['status'] };
  for (const action of ACTIONS) {
    const time = rule[action];
    if (time !== undefined) out[action] = checkTime(time, `Rule ${n}: ${ACTION_ELEMENTS[action]}`, action === 'expiration');
  }
  return out;
}

function checkTime(time: LifecycleTimeInput, where: string, isExpiration: boolean): LifecycleTime {
  const hasDays = time.days !== undefined;
  const hasDate = time.createdBeforeDate !== undefined;
  if (!hasDays && !hasDate) throw invalid(`${where} needs Days or CreatedBeforeDate.`, isExpiration ? '0014-00000060' : undefined);
  if (hasDays && hasDate) throw invalid(`${where} has both Days and CreatedBeforeDate; give only one.`, isExpiration ? '0014-00000061' : undefined);
  if (hasDays) {
    const written = time.days!;
    const days = typeof written === 'string' ? (/^\d+$/.test(written.trim()) ? Number(written.trim()) : Number.NaN) : written;
    if (!Number.isInteger(days) || days < 1) {
      throw invalid(`${where}: Days must be a positive integer, got "${String(written)}".`, undefined, { ArgumentName: 'Days', ArgumentValue: String(written) });
    }
    // OSS documents no upper bound; the emulator keeps days as a JavaScript number and cannot hold more exactly.
    if (!Number.isSafeInteger(days)) {
      throw invalid(`${where}: Days ${String(written)} is more than the local OSS can hold (${Number.MAX_SAFE_INTEGER}).`, undefined, { ArgumentName: 'Days', ArgumentValue: String(written) });
    }
    return { days };
  }
  const date = time.createdBeforeDate!;
  if (typeof date !== 'string' || !MIDNIGHT_UTC_RE.test(date) || Number.isNaN(Date.parse(date)) || new Date(date).toISOString() !== date) {
    throw invalid(`${where}: CreatedBeforeDate must be a UTC midnight in the form yyyy-MM-ddT00:00:00.000Z, got "${String(date)}".`, isExpiration ? '0014-00000087' : undefined, {
      ArgumentName: 'CreatedBeforeDate',
      ArgumentValue: String(date),
    });
  }
  return { createdBeforeDate: date };
}

/**
 * Equal prefixes (EC 0014-00000085), or overlapping ones of two rules with the same action
 * (EC 0014-00000084). OSS's pages do not say whether a Disabled rule counts; the emulator counts it.
 */
function checkOverlaps(rules: readonly LifecycleRule[]): void {
  for (let i = 0; i < rules.length; i++) {
    for (let j = i + 1; j < rules.length; j++) {
      const a = rules[i]!;
      const b = rules[j]!;
      if (a.prefix === b.prefix) {
        throw invalid(`Rules "${a.id}" and "${b.id}" have the same prefix "${a.prefix}".`, '0014-00000085');
      }
      if (!a.prefix.startsWith(b.prefix) && !b.prefix.startsWith(a.prefix)) continue;
      const shared = ACTIONS.find((action) => a[action] !== undefined && b[action] !== undefined);
      if (shared) {
        throw invalid(
          `Rules "${a.id}" (prefix "${a.prefix}") and "${b.id}" (prefix "${b.prefix}") overlap and both have an ${ACTION_ELEMENTS[shared]}; send x-oss-allow-same-action-overlap: true to allow it.`,
          '0014-00000084',
        );
      }
    }
  }
}

/**
 * The Enabled rule under which an object has expired by `now`, or undefined: Days count whole
 * `dayMs` from the last modification (24 h in OSS; shorter in tests), CreatedBeforeDate takes
 * objects last modified before that instant.
 */
export function expiringRule(rules: readonly LifecycleRule[], key: string, lastModified: number, now: number, dayMs: number): LifecycleRule | undefined {
  return rules.find((rule) => {
    if (rule.status !== 'Enabled' || !rule.expiration || !key.startsWith(rule.prefix)) return false;
    const { days, createdBeforeDate } = rule.expiration;
    if (days !== undefined) return lastModified + days * dayMs <= now;
    return createdBeforeDate !== undefined && lastModified < Date.parse(createdBeforeDate);
  });
}

function invalid(message: string, ec?: string, details?: Record<string, string>): OssError {
  return new OssError('InvalidArgument', message, { ...(ec ? { ec } : {}), ...(details ? { details } : {}) });
}
