/**
 * The MNS request signature, recomputed from the raw request as it arrived
 * (docs/platform-facts.md §8.1):
 *
 *   Authorization = "MNS " + AccessKeyId + ":" + base64(HMAC-SHA1(secret, StringToSign))
 *   StringToSign  = VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedMNSHeaders CanonicalizedResource
 *
 * CanonicalizedResource is the path and query exactly as sent — the SDK pastes receipt handles into
 * the URL unencoded and signs that text, so nothing here may decode or reorder it.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { MnsError } from './errors.ts';

/** A request exactly as it came off the socket. */
export interface MnsRawRequest {
  /** As received, e.g. `'DELETE'`. */
  method: string;
  /** Path plus query exactly as received (Node's `req.url`), e.g. `/queues/q/messages?waitseconds=10`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** How far the request date may be from the server clock, either way. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const AUTH_RE = /^MNS ([^:\s]+):([A-Za-z0-9+/]+={0,2})$/;
// What `Date.prototype.toUTCString()` writes, which is what the SDK sends. A stricter pattern than
// Date.parse alone, which would also take local-time strings whose meaning depends on the server.
const HTTP_DATE_RE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** The SDK's Content-MD5: base64 of the 32-character lowercase HEX digest, not of the raw digest. */
export function mnsContentMd5(body: Buffer | string): string {
  return Buffer.from(createHash('md5').update(body).digest('hex'), 'utf8').toString('base64');
}

/** The parts of a request that its signature covers. */
export interface StringToSignParts {
  method: string;
  contentMd5: string;
  contentType: string;
  date: string;
  /** All request headers; only `x-mns-*` ones are used. Names must be lower case. */
  headers: Record<string, string | string[] | number | undefined>;
  /** Path plus raw query. */
  resource: string;
}

/** Builds the string to sign; headers are taken verbatim (the SDK does not trim them). */
export function mnsStringToSign(p: StringToSignParts): string {
  const canonicalHeaders = Object.keys(p.headers)
    .filter((k) => k.startsWith('x-mns-') && p.headers[k] !== undefined)
    .sort()
    .map((k) => `${k}:${headerString(p.headers[k])}\n`)
    .join('');
  return `${p.method}\n${p.contentMd5}\n${p.contentType}\n${p.date}\n${canonicalHeaders}${p.resource}`;
}

/** base64(HMAC-SHA1(secret, stringToSign)). */
export function mnsSignature(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

/**
 * Checks a request's Authorization, date and Content-MD5.
 * @returns the AccessKey id that signed it
 * @throws MnsError MissingAuthorizationHeader / InvalidAuthorizationHeader (400), MissingDateHeader /
 *   InvalidDateHeader (400), TimeExpired (408), InvalidAccessKeyId (403), InvalidDegist (400),
 *   SignatureDoesNotMatch (403)
 */
export function verifyMnsRequest(req: MnsRawRequest, accessKeys: Readonly<Record<string, string>>, now: Date = new Date()): { accessKeyId: string } {
  const auth = header(req.headers, 'authorization');
  if (auth === undefined || auth.trim() === '') throw new MnsError('MissingAuthorizationHeader');
  const m = AUTH_RE.exec(auth.trim());
  if (!m) throw new MnsError('InvalidAuthorizationHeader', 'The Authorization header must be "MNS <AccessKeyId>:<Signature>".');
  const accessKeyId = m[1]!;
  const provided = Buffer.from(m[2]!, 'utf8');

  const date = header(req.headers, 'date');
  const mnsDate = header(req.headers, 'x-mns-date');
  // x-mns-date exists for clients that cannot set Date (browsers); when present it is the one that counts.
  const effectiveDate = mnsDate ?? date;
  if (effectiveDate === undefined) throw new MnsError('MissingDateHeader');
  const t = HTTP_DATE_RE.test(effectiveDate) ? Date.parse(effectiveDate) : Number.NaN;
  if (Number.isNaN(t)) throw new MnsError('InvalidDateHeader', `The date "${truncate(effectiveDate, 64)}" is not an RFC 1123 GMT date.`);
  if (Math.abs(now.getTime() - t) > MAX_CLOCK_SKEW_MS) {
    throw new MnsError('TimeExpired', `The request date ${effectiveDate} is more than 15 minutes away from the server time ${now.toUTCString()}.`);
  }

  if (!Object.hasOwn(accessKeys, accessKeyId)) throw new MnsError('InvalidAccessKeyId', `The AccessKey id ${truncate(accessKeyId, 64)} does not exist.`);
  const secret = accessKeys[accessKeyId]!;

  const contentMd5 = header(req.headers, 'content-md5');
  if (contentMd5 !== undefined && !md5Matches(contentMd5, req.body)) throw new MnsError('InvalidDegist');

  // The SDK signs the Date header and sends the same value as x-mns-date; a client that sends only
  // x-mns-date (or signs it in the Date slot, as the protocol description allows) is accepted too.
  const dateSlots = [...new Set([date, mnsDate].filter((d): d is string => d !== undefined))];
  let stringToSign = '';
  for (const slot of dateSlots) {
    stringToSign = mnsStringToSign({
      method: req.method,
      contentMd5: contentMd5 ?? '',
      contentType: header(req.headers, 'content-type') ?? '',
      date: slot,
      headers: req.headers,
      resource: req.url,
    });
    const expected = Buffer.from(mnsSignature(secret, stringToSign), 'utf8');
    if (expected.length === provided.length && timingSafeEqual(expected, provided)) return { accessKeyId };
  }
  // Echoing the string to sign lets a client diff it against its own; it reveals nothing secret.
  throw new MnsError('SignatureDoesNotMatch', `The request signature does not match. Server string to sign: ${JSON.stringify(stringToSign)}`);
}

/**
 * The SDK's form (base64 of the hex digest) and, for clients following RFC 1864, base64 of the raw
 * digest. Both say the same thing about the body.
 */
function md5Matches(value: string, body: Buffer): boolean {
  const digest = createHash('md5').update(body).digest();
  const candidates = [Buffer.from(digest.toString('hex'), 'utf8').toString('base64'), digest.toString('base64')];
  const given = Buffer.from(value.trim(), 'utf8');
  return candidates.some((c) => {
    const b = Buffer.from(c, 'utf8');
    return b.length === given.length && timingSafeEqual(b, given);
  });
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return v === undefined ? undefined : headerString(v);
}

function headerString(v: string | string[] | number | undefined): string {
  return Array.isArray(v) ? v.join(',') : String(v ?? '');
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
