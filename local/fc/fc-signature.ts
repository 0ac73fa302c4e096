/**
 * The FC 2.0 API signature (`Authorization: FC <ak>:<base64 HMAC-SHA256>`) as `@alicloud/fc2`
 * computes it, verified against the configured keys, with the error FC answers for each failure.
 * @see docs/platform-facts.md §6.1
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface FcApiError {
  status: number;
  code: string;
  message: string;
}

export type FcVerification = { ok: true; accessKeyId: string } | { ok: false; error: FcApiError };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * VERB \n Content-MD5 \n Content-Type \n Date \n + every `x-fc-*` header as `name:value\n`
 * (sorted, values as sent) + the path with its `/2016-08-15` prefix. Only `/proxy/` paths sign
 * their query; the InvokeFunction path never has one.
 */
export function fcStringToSign(method: string, signedPath: string, headers: IncomingHttpHeaders): string {
  const fcHeaders = Object.keys(headers)
    .map((k) => k.toLowerCase())
    .filter((k) => k.startsWith('x-fc-'))
    .sort()
    .map((k) => `${k}:${header(headers, k) ?? ''}\n`)
    .join('');
  return `${method}\n${header(headers, 'content-md5') ?? ''}\n${header(headers, 'content-type') ?? ''}\n${header(headers, 'date') ?? ''}\n${fcHeaders}${signedPath}`;
}

export function fcSignature(secret: string, stringToSign: string): string {
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('base64');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks the Authorization header of a request against `accessKeys` (id → secret). */
export function verifyFcRequest(input: { method: string; path: string; headers: IncomingHttpHeaders; accessKeys: Record<string, string> }): FcVerification {
  for (const required of ['date', 'authorization']) {
    if (!header(input.headers, required)) return { ok: false, error: { status: 400, code: 'MissingRequiredHeader', message: `required HTTP header ${required === 'date' ? 'Date' : 'Authorization'} was not specified` } };
  }
  const m = /^FC ([^:\s]+):(\S+)$/.exec(header(input.headers, 'authorization')!.trim());
  if (!m) return { ok: false, error: signatureNotMatch() };
  const [, accessKeyId, given] = m as unknown as [string, string, string];
  const secret = Object.hasOwn(input.accessKeys, accessKeyId) ? input.accessKeys[accessKeyId] : undefined;
  if (secret === undefined) return { ok: false, error: { status: 403, code: 'InvalidAccessKeyID', message: `invalid access key ID '${accessKeyId}'` } };
  // The SDK signs the path before URL encoding; for plain names both forms are the same string.
  const candidates = new Set([input.path, safeDecode(input.path)]);
  for (const p of candidates) if (sameText(fcSignature(secret, fcStringToSign(input.method, p, input.headers)), given)) return { ok: true, accessKeyId };
  return { ok: false, error: signatureNotMatch() };
}

function signatureNotMatch(): FcApiError {
  return { status: 403, code: 'SignatureNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your access key and signing method' };
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/**
 * Whether Content-MD5 matches the body. `@alicloud/fc2` sends base64 of the *hex* digest (its
 * quirk, §7.11); base64 of the raw digest (RFC 1864) is accepted too.
 */
export function contentMd5Matches(contentMd5: string, body: Buffer): boolean {
  const digest = createHash('md5').update(body).digest();
  return contentMd5 === Buffer.from(digest.toString('hex'), 'utf8').toString('base64') || contentMd5 === digest.toString('base64');
}
