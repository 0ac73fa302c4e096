/**
 * Verification of the two request signatures the official ECS SDK (`@alicloud/ecs20140526` on
 * `@alicloud/openapi-core` 1.0.8) produces: ACS3-HMAC-SHA256 (the default, "v3") and the legacy RPC
 * HMAC-SHA1 query signature (`signatureAlgorithm: 'v2'`). Everything is recomputed from the raw request
 * as it arrived, mirroring `OpenApiUtil.getAuthorization` and `OpenApiUtil.getRPCSignature`
 * (docs/platform-facts.md §4.2–4.4).
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { EcsApiError } from './api-error.ts';

/** A request exactly as it came off the socket; nothing in it may have been normalised. */
export interface RawRequest {
  /** HTTP method as received, e.g. `'POST'`. */
  method: string;
  /** Raw path before `'?'`, e.g. `'/'`. */
  path: string;
  /** Raw query string after the first `'?'`, exactly as received (`''` if none). */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Where the verifier looks up the secret belonging to an AccessKey id (plain or STS temporary key). */
export interface AccessKeys {
  secretFor(accessKeyId: string): string | undefined;
}

/** Outcome of {@link verifyEcsRequest}. */
export type SignatureResult =
  | {
      ok: true;
      accessKeyId: string;
      scheme: 'ACS3-HMAC-SHA256' | 'RPC-v2';
      /**
       * The API parameters covered by the signature (query plus a form-urlencoded body; protocol
       * parameters removed for v2). Null-prototype object, so use `Object.hasOwn`, not `params.hasOwnProperty`.
       * Callers must read parameters from here and never re-parse the raw query.
       */
      params: Record<string, string>;
      /**
       * The API action, taken only from a signed place: the signed `x-acs-action` header (v3) or the
       * `Action` query parameter (v2). In v2 the SDK also sends an `x-acs-action` header, but it is
       * NOT signed there, so routing must use this field, not the header.
       */
      action?: string;
      /** API version from the same signed place as {@link action}. */
      version?: string;
      /** STS token if one was sent (not validated here). */
      securityToken?: string;
    }
  | { ok: false; error: EcsApiError };

/** How far `x-acs-date` / `Timestamp` may be from the server clock, either way. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/**
 * Remembers signature nonces so a captured request cannot be replayed.
 *
 * An entry is kept for at least `ttlMs` after it was first seen, and longer when the caller asks via
 * `keepUntil` (see {@link verifyEcsRequest}: a request dated in the future stays acceptable until
 * date + skew, so its nonce must be remembered that long too). There is deliberately no size cap:
 * evicting live entries would reopen the replay window.
 */
export class NonceCache {
  readonly #ttlMs: number;
  readonly #expiresAt = new Map<string, number>();
  #nextSweep = 0;

  /** @param ttlMs minimum time a nonce stays remembered; default 15 minutes (the clock-skew window). */
  constructor(ttlMs: number = MAX_CLOCK_SKEW_MS) {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`NonceCache ttlMs must be > 0, got ${ttlMs}`);
    this.#ttlMs = ttlMs;
  }

  /**
   * Records a nonce.
   * @param keepUntil remember it at least until this instant, even if that is later than `now + ttl`
   * @returns true if the nonce was not seen (or has expired), false if it is a reuse
   */
  remember(nonce: string, now: Date, keepUntil?: Date): boolean {
    const t = now.getTime();
    this.#sweep(t);
    const seen = this.#expiresAt.get(nonce);
    // Inclusive bound: the skew check accepts a date exactly MAX_CLOCK_SKEW_MS away, so the nonce
    // must still be known at that very millisecond.
    if (seen !== undefined && seen >= t) return false;
    this.#expiresAt.set(nonce, Math.max(t + this.#ttlMs, keepUntil?.getTime() ?? 0));
    return true;
  }

  /** Number of nonces currently held (expired ones may linger until the next sweep). */
  get size(): number {
    return this.#expiresAt.size;
  }

  // Expiries are not monotonic in insertion order (keepUntil varies), so a full scan is needed; doing
  // it at most once a minute keeps remember() O(1) amortised.
  #sweep(t: number): void {
    if (t < this.#nextSweep) return;
    for (const [nonce, exp] of this.#expiresAt) if (exp < t) this.#expiresAt.delete(nonce);
    this.#nextSweep = t + Math.min(this.#ttlMs, 60_000);
  }
}

/**
 * Decodes a raw query string (or form-urlencoded body) into a map; a repeated key keeps its last value.
 *
 * `plus` decides what a literal `'+'` means. `'space'` is `URLSearchParams` / form-urlencoded semantics.
 * `'literal'` keeps it as `'+'` (RFC 3986 semantics, what `decodeURIComponent` does). The ECS SDK never
 * sends a literal `'+'` (Node's `querystring.stringify` writes `%2B` and `%20`), so both are right for
 * it; for other clients the meaning is ambiguous, which is why {@link verifyEcsRequest} tries both.
 *
 * The result has a null prototype so a key such as `__proto__` is an ordinary entry.
 */
export function decodeQuery(rawQuery: string, plus: 'space' | 'literal' = 'space'): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of queryEntries(rawQuery, plus)) out[k] = v;
  return out;
}

/**
 * Builds a {@link RawRequest} from a Node request and its collected body, keeping the target verbatim
 * (`new URL()` would normalise the path and re-encode the query, which breaks signatures).
 */
export function toRawRequest(req: IncomingMessage, body: Buffer): RawRequest {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? '' : target.slice(q + 1),
    headers: req.headers,
    body,
  };
}

/**
 * Verifies an ECS POP request signed by the official SDK, in either scheme.
 *
 * Scheme choice: an `Authorization` header means ACS3 (v3); otherwise a `Signature` / `AccessKeyId` /
 * `SignatureMethod` query parameter means RPC v2. Order of checks: form → access key → clock skew →
 * body hash (v3) → signature → nonce. The nonce is recorded only after the signature verified, so a
 * forged request cannot burn someone else's nonce.
 *
 * @param now server clock; defaults to the current time
 */
export function verifyEcsRequest(req: RawRequest, keys: AccessKeys, nonces: NonceCache, now: Date = new Date()): SignatureResult {
  try {
    return headerValue(req.headers, 'authorization') !== undefined
      ? verifyV3(req, keys, nonces, now)
      : verifyV2(req, keys, nonces, now);
  } catch (e) {
    if (e instanceof EcsApiError) return { ok: false, error: e };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------
// ACS3-HMAC-SHA256

const V3_ALGORITHM = 'ACS3-HMAC-SHA256';
// Whitespace after the commas is tolerated because hand-written clients add it; the SDK never does.
const V3_AUTH_RE = /^(\S+) Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]{64})$/;
const HEADER_NAME_RE = /^[a-z0-9-]+$/;
const SHA256_EMPTY = createHash('sha256').update('').digest('hex');

function verifyV3(req: RawRequest, keys: AccessKeys, nonces: NonceCache, now: Date): SignatureResult {
  const auth = (headerValue(req.headers, 'authorization') ?? '').trim();
  const algorithm = auth.split(' ', 1)[0];
  if (algorithm !== V3_ALGORITHM) {
    throw new EcsApiError('IncompleteSignature', `Unsupported or missing signature algorithm in Authorization (only ${V3_ALGORITHM} is accepted).`);
  }
  const m = V3_AUTH_RE.exec(auth);
  if (!m) {
    throw new EcsApiError('IncompleteSignature', `Authorization must be "${V3_ALGORITHM} Credential=<AccessKeyId>,SignedHeaders=<h1;h2;...>,Signature=<64 hex>".`);
  }
  const accessKeyId = m[2]!;
  const signedHeaders = m[3]!.split(';');
  const providedSig = Buffer.from(m[4]!, 'hex');

  checkSignedHeaderSet(req.headers, signedHeaders);
  const date = headerValue(req.headers, 'x-acs-date');
  const nonce = headerValue(req.headers, 'x-acs-signature-nonce');
  const contentSha = headerValue(req.headers, 'x-acs-content-sha256');
  if (!date || !nonce || !contentSha) {
    throw new EcsApiError('IncompleteSignature', 'x-acs-date, x-acs-signature-nonce and x-acs-content-sha256 are required and must be signed.');
  }
  // With STS the SDK sends the key id a second time; both are signed, but they must agree or the
  // key the secret was looked up by is not the key the token belongs to.
  const stsKeyId = headerValue(req.headers, 'x-acs-accesskey-id');
  if (stsKeyId !== undefined && stsKeyId !== accessKeyId) {
    throw new EcsApiError('IncompleteSignature', 'x-acs-accesskey-id does not match the Credential in Authorization.');
  }

  const secret = lookupSecret(keys, accessKeyId);
  const requestTime = checkClock(date, now, 'x-acs-date');

  const bodySha = req.body.length === 0 ? SHA256_EMPTY : createHash('sha256').update(req.body).digest('hex');
  if (contentSha.toLowerCase() !== bodySha) {
    throw new EcsApiError('SignatureDoesNotMatch', 'x-acs-content-sha256 is not the SHA-256 of the request body.');
  }

  const canonicalURI = req.path.replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
  let canonicalHeaders = '';
  for (const name of signedHeaders) canonicalHeaders += `${name}:${headerValue(req.headers, name)!.trim()}\n`;

  let lastStringToSign = '';
  for (const query of queryInterpretations(req.rawQuery)) {
    // Keys go in unencoded and values get encode(); that asymmetry is the SDK's, not a typo.
    const canonicalQuery = Object.keys(query).sort().map((k) => `${k}=${popEncode(query[k]!)}`).join('&');
    const canonicalRequest = `${req.method}\n${canonicalURI}\n${canonicalQuery}\n${canonicalHeaders}\n${signedHeaders.join(';')}\n${bodySha}`;
    const stringToSign = `${V3_ALGORITHM}\n${createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`;
    const expected = createHmac('sha256', secret).update(stringToSign, 'utf8').digest();
    lastStringToSign = stringToSign;
    if (!timingSafeEqual(expected, providedSig)) continue;

    rememberNonce(nonces, nonce, now, requestTime);
    const params: Record<string, string> = Object.assign(Object.create(null), query, formBody(req, 'space'));
    const securityToken = headerValue(req.headers, 'x-acs-security-token');
    const action = headerValue(req.headers, 'x-acs-action');
    const version = headerValue(req.headers, 'x-acs-version');
    return {
      ok: true,
      accessKeyId,
      scheme: V3_ALGORITHM,
      params,
      ...(action !== undefined && { action }),
      ...(version !== undefined && { version }),
      ...(securityToken !== undefined && { securityToken }),
    };
  }
  // The real service echoes its string to sign so a client can diff it; it reveals nothing secret.
  throw new EcsApiError('SignatureDoesNotMatch', `server string to sign is: ${lastStringToSign}`);
}

/**
 * The SDK signs every `host`, `content-type` and `x-acs-*` header it sends. Insisting on the same
 * means nothing that influences routing or parsing (`x-acs-action`, `content-type`, the STS token)
 * can be added to a captured request without breaking the signature.
 */
function checkSignedHeaderSet(headers: IncomingHttpHeaders, signed: string[]): void {
  const set = new Set<string>();
  for (const name of signed) {
    if (!HEADER_NAME_RE.test(name) || set.has(name)) {
      throw new EcsApiError('IncompleteSignature', `SignedHeaders must be distinct lower-case header names; got "${truncate(name, 64)}".`);
    }
    if (headerValue(headers, name) === undefined) {
      throw new EcsApiError('IncompleteSignature', `Signed header "${truncate(name, 64)}" is not present in the request.`);
    }
    set.add(name);
  }
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if ((lower === 'host' || lower === 'content-type' || lower.startsWith('x-acs-')) && !set.has(lower)) {
      throw new EcsApiError('IncompleteSignature', `Header "${truncate(lower, 64)}" must be listed in SignedHeaders.`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// RPC v2 (HMAC-SHA1)

/** Query parameters that belong to the v2 protocol rather than to the API call. */
const V2_PROTOCOL_PARAMS = new Set([
  'Action', 'Format', 'Version', 'Timestamp', 'SignatureNonce', 'SignatureMethod',
  'SignatureVersion', 'AccessKeyId', 'Signature', 'SecurityToken',
]);

function verifyV2(req: RawRequest, keys: AccessKeys, nonces: NonceCache, now: Date): SignatureResult {
  const interpretations = queryInterpretations(req.rawQuery);
  const first = interpretations[0]!;
  if (!has(first, 'Signature') && !has(first, 'AccessKeyId') && !has(first, 'SignatureMethod')) {
    throw new EcsApiError('IncompleteSignature', 'The request carries neither an Authorization header nor a Signature query parameter.');
  }
  for (const p of ['Signature', 'AccessKeyId', 'SignatureNonce', 'Timestamp', 'SignatureMethod', 'SignatureVersion'] as const) {
    if (!first[p]) throw new EcsApiError('IncompleteSignature', `Query parameter ${p} is required for the RPC signature.`);
  }
  if (first.SignatureMethod !== 'HMAC-SHA1' || first.SignatureVersion !== '1.0') {
    throw new EcsApiError('IncompleteSignature', 'Only SignatureMethod=HMAC-SHA1 with SignatureVersion=1.0 is supported.');
  }
  // A v2 signature covers the query and a form body only; any other body would ride along unsigned.
  if (req.body.length > 0 && !isFormBody(req.headers)) {
    throw new EcsApiError('IncompleteSignature', 'An RPC (v2) request body must be application/x-www-form-urlencoded.');
  }

  const accessKeyId = first.AccessKeyId!;
  const secret = lookupSecret(keys, accessKeyId);
  const requestTime = checkClock(first.Timestamp!, now, 'Timestamp');
  const hmacKey = `${secret}&`;

  let lastStringToSign = '';
  for (const plus of ['space', 'literal'] as const) {
    const query = plus === 'space' ? first : interpretations[1];
    if (!query) break;
    // Base64 never contains a space, so a space here can only be a '+' that was decoded as form data.
    const provided = Buffer.from((query.Signature ?? '').replace(/ /g, '+'), 'utf8');
    // Mirrors the SDK: signed = { ...query, ...flattened body }, keys sorted before encoding.
    const signed: Record<string, string> = Object.assign(Object.create(null), query, formBody(req, plus));
    delete signed.Signature;
    const canonical = Object.keys(signed).sort().map((k) => `${popEncode(k)}=${popEncode(signed[k]!)}`).join('&');
    const stringToSign = `${req.method}&${popEncode('/')}&${popEncode(canonical)}`;
    const expected = Buffer.from(createHmac('sha1', hmacKey).update(stringToSign, 'utf8').digest('base64'), 'utf8');
    lastStringToSign = stringToSign;
    if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) continue;

    rememberNonce(nonces, query.SignatureNonce!, now, requestTime);
    const params: Record<string, string> = Object.create(null);
    for (const [k, v] of Object.entries(signed)) if (!V2_PROTOCOL_PARAMS.has(k)) params[k] = v;
    return {
      ok: true,
      accessKeyId,
      scheme: 'RPC-v2',
      params,
      ...(query.Action !== undefined && { action: query.Action }),
      ...(query.Version !== undefined && { version: query.Version }),
      ...(query.SecurityToken !== undefined && { securityToken: query.SecurityToken }),
    };
  }
  throw new EcsApiError('SignatureDoesNotMatch', `server string to sign is: ${truncate(lastStringToSign, 2048)}`);
}

// ---------------------------------------------------------------------------------------------------
// shared helpers

/**
 * `encodeURIComponent` plus `! ' ( ) *`, the percent-encoding both SDK signers use (`encode` in
 * openapi-core utils.ts). Note this differs from the wire encoding (`querystring.stringify` leaves
 * `! ' ( ) *` alone), which is why the raw query string can never be signed as is.
 */
function popEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function* queryEntries(raw: string, plus: 'space' | 'literal'): Generator<[string, string]> {
  yield* new URLSearchParams(plus === 'literal' ? raw.replace(/\+/g, '%2B') : raw);
}

/**
 * Candidate decodings of the query, to be tried in order. Why two: the SDK never emits a literal '+',
 * but a '+' on the wire is ambiguous in general (form encoding says space, RFC 3986 says plus). Trying
 * only "space" would reject a client that signed "a+b" and sent it unescaped; trying only "literal"
 * would reject one that sent a space as '+'. The params returned always come from the interpretation
 * whose canonical form the signature covered, so accepting either never lets a value change meaning.
 *
 * Repeated keys are refused: the SDK builds the query from a map and cannot repeat one, and a repeat
 * would let a consumer that re-parses the raw query (first-wins) see a value that was not signed.
 */
function queryInterpretations(raw: string): Record<string, string>[] {
  const seen = new Set<string>();
  for (const [k] of queryEntries(raw, 'space')) {
    if (seen.has(k)) throw new EcsApiError('InvalidParameter', `Query parameter "${truncate(k, 64)}" appears more than once; lists are sent as Name.1, Name.2, ...`);
    seen.add(k);
  }
  return raw.includes('+') ? [decodeQuery(raw, 'space'), decodeQuery(raw, 'literal')] : [decodeQuery(raw, 'space')];
}

function isFormBody(headers: IncomingHttpHeaders): boolean {
  return /^application\/x-www-form-urlencoded\b/i.test(headerValue(headers, 'content-type') ?? '');
}

function formBody(req: RawRequest, plus: 'space' | 'literal'): Record<string, string> {
  if (req.body.length === 0 || !isFormBody(req.headers)) return Object.create(null);
  return decodeQuery(req.body.toString('utf8'), plus);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function has(o: Record<string, string>, k: string): boolean {
  return Object.hasOwn(o, k);
}

function lookupSecret(keys: AccessKeys, accessKeyId: string): string {
  const secret = keys.secretFor(accessKeyId);
  if (secret === undefined) throw new EcsApiError('InvalidAccessKeyId.NotFound', `AccessKeyId: ${truncate(accessKeyId, 64)}`);
  return secret;
}

// Only the exact shape the SDK writes (whole seconds optional fraction, UTC 'Z'); Date.parse alone
// would accept local-time strings whose meaning depends on the server's time zone.
const ISO_UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

function checkClock(value: string, now: Date, what: string): Date {
  const t = ISO_UTC_RE.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t)) {
    throw new EcsApiError('IncompleteSignature', `${what} must be an ISO 8601 UTC time like 2026-01-02T03:04:05Z; got "${truncate(value, 64)}".`);
  }
  if (Math.abs(now.getTime() - t) > MAX_CLOCK_SKEW_MS) {
    throw new EcsApiError('InvalidTimeStamp.Expired', `${what} ${value} is more than 15 minutes from the server time ${now.toISOString()}.`);
  }
  return new Date(t);
}

function rememberNonce(nonces: NonceCache, nonce: string, now: Date, requestTime: Date): void {
  // A request dated ahead of the server clock stays acceptable until date + skew; its nonce must
  // outlive that, or the same request could be replayed once the cache forgot it.
  if (!nonces.remember(nonce, now, new Date(requestTime.getTime() + MAX_CLOCK_SKEW_MS))) {
    throw new EcsApiError('SignatureNonceUsed', `SignatureNonce: ${truncate(nonce, 80)}`);
  }
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
