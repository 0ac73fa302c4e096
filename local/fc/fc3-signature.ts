/**
 * The FC 3.0 API signature: ACS3-HMAC-SHA256 in the ROA style, as `@alicloud/fc20230330` computes
 * it through `@alicloud/openapi-core` (`OpenApiUtil.getAuthorization`):
 *
 *   CanonicalRequest = METHOD \n path \n sorted query (key=encode(value), &-joined) \n
 *                      every signed header as name:value\n \n signed header names ;-joined \n hex SHA-256 of the body
 *   Authorization    = ACS3-HMAC-SHA256 Credential=<ak>,SignedHeaders=<names>,Signature=hex(HMAC-SHA256(secret, "ACS3-HMAC-SHA256\n" + hex SHA-256(CanonicalRequest)))
 *
 * The client signs `host`, `content-type` and every `x-acs-*` header, and nothing else: the
 * `x-fc-invocation-type` header is not covered. Errors are FC 3.0's (403 SignatureNotMatch,
 * InvalidAccessKeyID; 400 MissingRequiredHeader). Written for the FC emulator alone so the ECS
 * emulator's verifier (local/ecs/signature.ts) stays as it is.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FcApiError } from './fc-signature.ts';

export type Fc3Verification = { ok: true; accessKeyId: string; securityToken?: string } | { ok: false; error: FcApiError };

const ALGORITHM = 'ACS3-HMAC-SHA256';
const AUTH = /^ACS3-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]{64})$/;
/** How far x-acs-date may be from the host's clock, either way (the ECS emulator holds the same). */
const MAX_SKEW_MS = 15 * 60 * 1000;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** `encodeURIComponent` plus `! ' ( ) *`, the encoding openapi-core signs query values with. */
function popEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function signatureNotMatch(): FcApiError {
  return { status: 403, code: 'SignatureNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your access key and signing method' };
}

export function fc3CanonicalRequest(input: { method: string; path: string; query: URLSearchParams; headers: IncomingHttpHeaders; signedHeaders: string[]; bodySha256: string }): string {
  const uri = input.path.replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
  const keys = [...new Set(input.query.keys())].sort();
  const query = keys.map((k) => `${k}=${popEncode(input.query.get(k) ?? '')}`).join('&');
  const headers = input.signedHeaders.map((h) => `${h}:${(header(input.headers, h) ?? '').trim()}\n`).join('');
  return `${input.method}\n${uri}\n${query}\n${headers}\n${input.signedHeaders.join(';')}\n${input.bodySha256}`;
}

export function fc3Signature(secret: string, canonicalRequest: string): string {
  const stringToSign = `${ALGORITHM}\n${createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`;
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('hex');
}

/** Nonces seen within the clock-skew window, so a captured request cannot be sent again. */
export class Fc3NonceCache {
  private readonly until = new Map<string, number>();
  remember(nonce: string, now: number): boolean {
    for (const [n, t] of this.until) if (t < now) this.until.delete(n);
    if (this.until.has(nonce)) return false;
    this.until.set(nonce, now + 2 * MAX_SKEW_MS);
    return true;
  }
}

export function verifyFc3Request(input: { method: string; path: string; query: URLSearchParams; headers: IncomingHttpHeaders; body: Buffer; accessKeys: Record<string, string>; nonces: Fc3NonceCache; now?: number }): Fc3Verification {
  const h = input.headers;
  const auth = header(h, 'authorization');
  if (!auth) return { ok: false, error: { status: 400, code: 'MissingRequiredHeader', message: 'required HTTP header Authorization was not specified' } };
  for (const required of ['x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']) {
    if (!header(h, required)) return { ok: false, error: { status: 400, code: 'MissingRequiredHeader', message: `required HTTP header ${required} was not specified` } };
  }
  const m = AUTH.exec(auth.trim());
  if (!m) return { ok: false, error: signatureNotMatch() };
  const [, accessKeyId, signed, given] = m as unknown as [string, string, string, string];
  const secret = Object.hasOwn(input.accessKeys, accessKeyId) ? input.accessKeys[accessKeyId] : undefined;
  if (secret === undefined) return { ok: false, error: { status: 403, code: 'InvalidAccessKeyID', message: `invalid access key ID '${accessKeyId}'` } };
  const signedHeaders = signed.split(';');
  // Everything the client signs must be signed: host, content-type and the x-acs-* headers.
  for (const name of Object.keys(h)) {
    if ((name === 'host' || name === 'content-type' || name.startsWith('x-acs-')) && !signedHeaders.includes(name)) return { ok: false, error: signatureNotMatch() };
  }
  if (signedHeaders.some((name) => header(h, name) === undefined)) return { ok: false, error: signatureNotMatch() };
  const now = input.now ?? Date.now();
  const date = Date.parse(header(h, 'x-acs-date')!);
  // FC documents no code of its own for a stale date; its generic InvalidArgument (400) stands in.
  if (Number.isNaN(date) || Math.abs(now - date) > MAX_SKEW_MS) return { ok: false, error: { status: 400, code: 'InvalidArgument', message: `x-acs-date ${header(h, 'x-acs-date')} is more than 15 minutes from the server time` } };
  const bodySha256 = createHash('sha256').update(input.body).digest('hex');
  if (header(h, 'x-acs-content-sha256')!.toLowerCase() !== bodySha256) return { ok: false, error: signatureNotMatch() };
  const expected = Buffer.from(fc3Signature(secret, fc3CanonicalRequest({ method: input.method, path: input.path, query: input.query, headers: h, signedHeaders, bodySha256 })), 'hex');
  const provided = Buffer.from(given, 'hex');
  if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) return { ok: false, error: signatureNotMatch() };
  if (!input.nonces.remember(header(h, 'x-acs-signature-nonce')!, now)) return { ok: false, error: { status: 403, code: 'SignatureNotMatch', message: 'the signature nonce has been used before' } };
  const securityToken = header(h, 'x-acs-security-token');
  return { ok: true, accessKeyId, ...(securityToken ? { securityToken } : {}) };
}
