/**
 * The steps every codec's `verify` takes the same way: the request's shape, required headers, a
 * timestamp within its window, the body decoded and checked against a schema, a delivery accepted
 * once, and the three outcomes. What differs per platform — header names, the signature's base
 * string and algorithm, the schemas, the answers — stays in the platform's file.
 *
 * Signature computation is deliberately NOT here: each codec computes its own, and `../sign.ts` has
 * the signing side, so one shared bug cannot make signer and verifier agree on a wrong value.
 * Reasons are fixed phrases plus header names and numbers we computed, never header or secret values.
 *
 * Authentication comes first and whole: a signed body is authenticated before anything parses or
 * decrypts it, every check of the headers, timestamp and signature is computed before any is acted
 * on ({@link firstRefusal}), and every request that fails them is answered alike
 * ({@link NOT_AUTHENTICATED}); the reason is for the log.
 */
import { timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import { jsonResponse, type HttpRequest, type HttpResponse } from '../../runtime/http.ts';
import type { InboundCommand, ReplayGuard, Verified } from '../types.ts';
import { parseJson } from './common.ts';

/** Bodies larger than this are refused before any work: no chat platform sends more for one message. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A verify outcome that refuses the request. */
export type Refused = Extract<Verified, { kind: 'refused' }>;

/** What a step found, or the refusal that ends verify there. */
export type Step<T> = { kind: 'ok'; value: T } | Refused;

/** A refusal. Reasons are fixed phrases plus numbers we computed, never header or secret values. */
export function refused(status: 400 | 401, reason: string): Refused {
  return { kind: 'refused', status, reason };
}

/** A request answered directly, with no command: a challenge, a repeated delivery, an ignored event. */
export function handshake(response: HttpResponse): Verified {
  return { kind: 'handshake', response };
}

/** A verified command. */
export function command(inbound: InboundCommand): Verified {
  return { kind: 'command', command: inbound };
}

/**
 * Compares two strings in time independent of where they differ. Lengths may leak (a signature's
 * length is public); comparing a buffer with itself on a mismatch keeps the work similar anyway.
 */
export function safeEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** A header, or undefined when absent or empty (runtimes differ in which of the two they hand over). */
export function header(req: HttpRequest, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The values of headers a request must carry, in the order given — '' for one that is absent — and
 * the refusal naming the first one missing (`missing <name> header`), undefined when none is. A
 * missing header does not end verify here: the signature is computed over '' all the same and
 * {@link firstRefusal} picks the refusal, so a request without a header takes the work of one
 * with a wrong value and gets the same answer.
 */
export function requiredHeaders<const Names extends readonly string[]>(req: HttpRequest, names: Names): { values: { [K in keyof Names]: string }; missing: Refused | undefined } {
  const values = names.map((name) => header(req, name) ?? '');
  const absent = names.find((_, i) => values[i] === '');
  return { values: values as { [K in keyof Names]: string }, missing: absent === undefined ? undefined : refused(401, `missing ${absent} header`) };
}

/**
 * The first refusal of a request's authentication checks, each of which was computed before this
 * is called (the array's elements are): no check is skipped because an earlier one failed, so the
 * time taken does not say which failed. Undefined when all passed.
 */
export function firstRefusal(checks: ReadonlyArray<Refused | undefined>): Refused | undefined {
  return checks.find((check) => check !== undefined);
}

/**
 * What every request that does not authenticate is answered — a missing header, a stale or
 * malformed timestamp, a wrong signature or token, a replay, a body that cannot be decrypted —
 * the same status and words whatever failed, so the answer tells an attacker nothing (issue 14:
 * Lark's answers once told bad padding from good). Which check failed is logged, never answered.
 */
export const NOT_AUTHENTICATED = 'the request could not be authenticated';

/**
 * The answer to a refusal: every 401 the one {@link NOT_AUTHENTICATED} answer; a 400 (a request that
 * is no chat request at all, or an authenticated one whose body does not fit) says why.
 */
export function refusalAnswer(refusal: Refused): HttpResponse {
  return refusal.status === 401 ? jsonResponse(401, { error: NOT_AUTHENTICATED }) : jsonResponse(refusal.status, { error: refusal.reason });
}

/** Checks the request shape every platform shares; undefined when it is fine. */
export function checkEnvelope(req: HttpRequest): Refused | undefined {
  if (req.method.toUpperCase() !== 'POST') return refused(400, `expected POST, got ${req.method.slice(0, 10)}`);
  if (req.body.length > MAX_BODY_BYTES) return refused(400, `body of ${req.body.length} bytes is larger than ${MAX_BODY_BYTES}`);
  return undefined;
}

/**
 * Checks a timestamp against now (at most pastSeconds old, futureSeconds ahead); undefined when fresh. A timestamp ahead of
 * now is refused as firmly as an old one: accepting it would let a captured request live longer.
 */
export function checkWindow(timestampMs: number, now: Date, pastSeconds: number, what: string, futureSeconds = pastSeconds): Refused | undefined {
  const skew = (now.getTime() - timestampMs) / 1000;
  if (skew > pastSeconds) return refused(401, `${what} is ${Math.round(skew)} s old, more than the ${pastSeconds} s allowed (expired or replayed)`);
  if (-skew > futureSeconds) return refused(401, `${what} is ${Math.round(-skew)} s in the future, more than the ${futureSeconds} s allowed`);
  return undefined;
}

/** How a platform dates its requests in a header. */
export interface TimestampHeader {
  /** What reasons call it: the header's name, or a phrase where the name alone says little (DingTalk's `timestamp header`). */
  called: string;
  unit: 'seconds' | 'milliseconds';
  /** How far from now it may be, either way. */
  windowSeconds: number;
}

const UNIT_WORDS: Record<TimestampHeader['unit'], string> = { seconds: 'unix seconds', milliseconds: 'milliseconds since the epoch' };

/** A timestamp header's value in milliseconds since the epoch; a 401 when it is not an integer in the platform's unit. */
export function timestampMs(value: string, timestamp: TimestampHeader): Step<number> {
  const count = parseIntegerHeader(value);
  if (count === undefined) return refused(401, `${timestamp.called} is not ${UNIT_WORDS[timestamp.unit]}`);
  return { kind: 'ok', value: timestamp.unit === 'seconds' ? count * 1000 : count };
}

/** Checks a timestamp header's value: an integer in the platform's unit, within its window of now; undefined when fresh. */
export function checkTimestamp(value: string, timestamp: TimestampHeader, now: Date): Refused | undefined {
  const ms = timestampMs(value, timestamp);
  return ms.kind === 'ok' ? checkWindow(ms.value, now, timestamp.windowSeconds, timestamp.called) : ms;
}

/**
 * How long an id accepted within a ±window must be remembered: a request may be replayed anywhere in
 * the window, either way, so all of it, and a minute more so none is forgotten at the window's edge.
 */
export function replayTtlSeconds(windowSeconds: number): number {
  return 2 * windowSeconds + 60;
}

/** Parses an integer timestamp header: digits only, so `1e3`, `0x10` and `12abc` are not numbers. */
function parseIntegerHeader(value: string): number | undefined {
  if (!/^\d{1,16}$/.test(value)) return undefined;
  return Number(value);
}

/** A zod failure as a short, log-safe reason: paths and zod's messages, no input values. */
function zodReason(prefix: string, error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return `${prefix}: ${issues.join('; ')}`.slice(0, 300);
}

/** A value checked against a schema; a 400 saying it is `notA` (and zod's paths) otherwise. */
export function parsedAs<S extends z.ZodType>(schema: S, value: unknown, notA: string): Step<z.output<S>> {
  const parsed = schema.safeParse(value);
  return parsed.success ? { kind: 'ok', value: parsed.data } : refused(400, zodReason(notA, parsed.error));
}

/** The body decoded as UTF-8 JSON; a 400 when it is not JSON. */
export function jsonBody(req: HttpRequest): Step<unknown> {
  const json = parseJson(req.body.toString('utf8'));
  return json.ok ? { kind: 'ok', value: json.value } : refused(400, 'body is not JSON');
}

/** The body decoded as JSON and checked against a schema; a 400 when it is not JSON, or not `notA`. */
export function jsonBodyAs<S extends z.ZodType>(req: HttpRequest, schema: S, notA: string): Step<z.output<S>> {
  const json = jsonBody(req);
  return json.kind === 'ok' ? parsedAs(schema, json.value, notA) : json;
}

/**
 * Records a delivery id; true the first time. A platform's retry of a delivery already accepted then
 * gets the platform's "already received" answer instead of a second command. Ids are prefixed with
 * their platform (InboundCommand.deliveryId), so the platforms share this one namespace safely.
 */
export function firstDelivery(replay: ReplayGuard, deliveryId: string, ttlSeconds: number): Promise<boolean> {
  return replay.firstSeen(`delivery:${deliveryId}`, ttlSeconds);
}

/**
 * Whether a reply URL taken from a request body may be POSTed to: its origin must be one of the
 * allowed ones, exactly. A body is attacker-controlled wherever its signature does not cover it
 * (DingTalk), the webhook's signed client picks its callbackUrl, and follow-ups carry run results
 * from inside the deployment, so they go only to the platform's own hosts or the listed origins.
 */
export function originAllowed(url: string, allowedOrigins: readonly string[]): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'https:' || u.protocol === 'http:') && allowedOrigins.includes(u.origin);
  } catch {
    return false;
  }
}

/** A user or channel: its id, and its display name when the platform sent a non-empty one. */
export function withName(id: string, name: string | undefined): { id: string; name?: string } {
  return { id, ...(name ? { name } : {}) };
}
