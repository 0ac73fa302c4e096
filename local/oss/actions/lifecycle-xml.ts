/**
 * The `<LifecycleConfiguration>` document of PutBucketLifecycle and GetBucketLifecycle, in the
 * element order of the OSS API pages: Rule { ID, Prefix, Status, Expiration { Days |
 * CreatedBeforeDate }, AbortMultipartUpload { Days | CreatedBeforeDate } }.
 */
import { XMLParser } from 'fast-xml-parser';
import { OssError } from '../errors.ts';
import type { LifecycleRule, LifecycleRuleInput, LifecycleTime, LifecycleTimeInput } from '../lifecycle.ts';
import { renderXml, type XmlElement } from '../xml.ts';

/** Elements of a Rule that real OSS has but the emulator does not: refused as NotImplemented rather than ignored. */
const UNSERVED_RULE_ELEMENTS = new Set(['Transition', 'NoncurrentVersionExpiration', 'NoncurrentVersionTransition', 'Tag', 'Filter', 'AtimeBase']);
const RULE_ELEMENTS = new Set(['ID', 'Prefix', 'Status', 'Expiration', 'AbortMultipartUpload']);

// Whitespace is kept (a Prefix may begin or end with a space); numeric character references are
// decoded as any XML parser does (htmlEntities also takes HTML's named ones, a harmless leniency).
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  isArray: (_name, jpath) => jpath === 'LifecycleConfiguration.Rule',
});

/**
 * Reads the rules of a PutBucketLifecycle body; values are checked afterwards (lifecycle.ts).
 * @throws OssError MalformedXML when the body is not a LifecycleConfiguration of Rules with a
 *   Status each; NotImplemented for rule parts the emulator does not have (Transition, Tag, …)
 */
export function parseLifecycleXml(text: string): LifecycleRuleInput[] {
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text, true) as Record<string, unknown>;
  } catch (e) {
    throw malformed(`The body is not well-formed XML: ${(e as Error).message}`);
  }
  const roots = Object.keys(doc).filter((k) => k !== '?xml');
  if (roots.length !== 1 || roots[0] !== 'LifecycleConfiguration') throw malformed('The body must be one LifecycleConfiguration element.');
  const configuration = element(doc.LifecycleConfiguration, 'LifecycleConfiguration');
  for (const name of Object.keys(configuration)) {
    if (name !== 'Rule') throw malformed(`LifecycleConfiguration may hold only Rule elements, not ${name}.`);
  }
  const rules = (configuration.Rule as unknown[] | undefined) ?? [];
  return rules.map((raw, i) => parseRule(element(raw, `Rule ${i + 1}`), i + 1));
}

function parseRule(fields: Record<string, unknown>, n: number): LifecycleRuleInput {
  for (const name of Object.keys(fields)) {
    if (UNSERVED_RULE_ELEMENTS.has(name)) {
      throw new OssError('NotImplemented', `Rule ${n}: ${name} is not emulated by the local OSS; its rules have ID, Prefix, Status, Expiration and AbortMultipartUpload.`);
    }
    if (!RULE_ELEMENTS.has(name)) throw malformed(`Rule ${n}: unknown element ${name}.`);
  }
  if (fields.Status === undefined) throw malformed(`Rule ${n} has no Status.`);
  const rule: LifecycleRuleInput = { status: text(fields.Status, `Rule ${n} Status`).trim() };
  if (fields.ID !== undefined) rule.id = text(fields.ID, `Rule ${n} ID`);
  if (fields.Prefix !== undefined) rule.prefix = text(fields.Prefix, `Rule ${n} Prefix`);
  if (fields.Expiration !== undefined) rule.expiration = parseTime(fields.Expiration, `Rule ${n} Expiration`, true);
  if (fields.AbortMultipartUpload !== undefined) rule.abortMultipartUpload = parseTime(fields.AbortMultipartUpload, `Rule ${n} AbortMultipartUpload`, false);
  return rule;
}

function parseTime(raw: unknown, where: string, isExpiration: boolean): LifecycleTimeInput {
  const fields = element(raw, where);
  const time: LifecycleTimeInput = {};
  for (const name of Object.keys(fields)) {
    if (name === 'Days') time.days = text(fields.Days, `${where} Days`).trim();
    else if (name === 'CreatedBeforeDate') time.createdBeforeDate = text(fields.CreatedBeforeDate, `${where} CreatedBeforeDate`).trim();
    else if (isExpiration && name === 'ExpiredObjectDeleteMarker') {
      throw new OssError('NotImplemented', `${where}: ExpiredObjectDeleteMarker is for versioned buckets, which the local OSS does not emulate.`);
    } else throw malformed(`${where}: unknown element ${name}.`);
  }
  return time;
}

/** An element's children; an empty (or whitespace-only) element has none. */
function element(raw: unknown, where: string): Record<string, unknown> {
  if (typeof raw === 'string') {
    if (raw.trim() !== '') throw malformed(`${where} must hold elements, not text.`);
    return {};
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed(`${where} appears more than once.`);
  const { '#text': between, ...children } = raw as Record<string, unknown>;
  if (typeof between === 'string' && between.trim() !== '') throw malformed(`${where} must hold elements, not text.`);
  return children;
}

function text(raw: unknown, where: string): string {
  if (typeof raw === 'string') return raw;
  throw malformed(Array.isArray(raw) ? `${where} appears more than once.` : `${where} must be text.`);
}

function malformed(message: string): OssError {
  return new OssError('MalformedXML', message);
}

/** The GetBucketLifecycle answer. */
export function renderLifecycleXml(rules: readonly LifecycleRule[]): string {
  return renderXml('LifecycleConfiguration', {
    Rule: rules.map((rule) => ({
      ID: rule.id,
      Prefix: rule.prefix,
      Status: rule.status,
      Expiration: timeXml(rule.expiration),
      AbortMultipartUpload: timeXml(rule.abortMultipartUpload),
    })),
  });
}

function timeXml(time: LifecycleTime | undefined): XmlElement | undefined {
  if (!time) return undefined;
  return time.days !== undefined ? { Days: time.days } : { CreatedBeforeDate: time.createdBeforeDate };
}
