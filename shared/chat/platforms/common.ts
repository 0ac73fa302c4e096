/**
 * Pieces every codec and sender shares: constant-time comparison, refusals with log-safe reasons,
 * time windows, size caps, and a JSON POST with a deadline. Signature computation is deliberately
 * NOT here: each codec computes its own, and `../sign.ts` has the signing side, so one shared bug
 * cannot make signer and verifier agree on a wrong value.
 */
import { timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import type { HttpRequest, HttpResponse } from '../../runtime/http.ts';
import type { Verified } from '../types.ts';

/** Bodies larger than this are refused before any work: no chat platform sends more for one message. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** How long a follow-up POST may take; FC functions have a deadline, and a hung chat API must not eat it. */
export const SEND_TIMEOUT_MS = 10_000;

/** A follow-up message could not be delivered. The message never contains a secret or a full capability URL. */
export class ChatSendError extends Error {
  override readonly name = 'ChatSendError';
}

/** A refusal. Reasons are fixed phrases plus numbers we computed, never header or secret values. */
export function refused(status: 400 | 401, reason: string): Verified {
  return { kind: 'refused', status, reason };
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

/** Checks the request shape every platform shares; undefined when it is fine. */
export function checkEnvelope(req: HttpRequest): Verified | undefined {
  if (req.method.toUpperCase() !== 'POST') return refused(400, `expected POST, got ${req.method.slice(0, 10)}`);
  if (req.body.length > MAX_BODY_BYTES) return refused(400, `body of ${req.body.length} bytes is larger than ${MAX_BODY_BYTES}`);
  return undefined;
}

/**
 * Checks a timestamp against now (at most pastSeconds old, futureSeconds ahead); undefined when fresh. A timestamp ahead of
 * now is refused as firmly as an old one: accepting it would let a captured request live longer.
 */
export function checkWindow(timestampMs: number, now: Date, pastSeconds: number, what: string, futureSeconds = pastSeconds): Verified | undefined {
  const skew = (now.getTime() - timestampMs) / 1000;
  if (skew > pastSeconds) return refused(401, `${what} is ${Math.round(skew)} s old, more than the ${pastSeconds} s allowed (expired or replayed)`);
  if (-skew > futureSeconds) return refused(401, `${what} is ${Math.round(-skew)} s in the future, more than the ${futureSeconds} s allowed`);
  return undefined;
}

/** Parses an integer timestamp header: digits only, so `1e3`, `0x10` and `12abc` are not numbers. */
export function parseIntegerHeader(value: string): number | undefined {
  if (!/^\d{1,16}$/.test(value)) return undefined;
  return Number(value);
}

/** A zod failure as a short, log-safe reason: paths and zod's messages, no input values. */
export function zodReason(prefix: string, error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return `${prefix}: ${issues.join('; ')}`.slice(0, 300);
}

/** JSON.parse that answers undefined instead of throwing. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * Shortens text to at most max characters, ending with a visible marker: a silently cut result is
 * worse than a visibly cut one (chat platforms truncate or reject oversized messages on their own).
 */
export function truncate(text: string, max: number, marker = '\n… (truncated)'): string {
  if (text.length <= max) return text;
  // Cut on a code point boundary: a lone surrogate makes some platforms reject the whole message.
  const chars = Array.from(text.slice(0, Math.max(0, max - marker.length)));
  const last = chars[chars.length - 1];
  if (last !== undefined && /[\uD800-\uDBFF]/.test(last)) chars.pop();
  return chars.join('') + marker;
}

/** The host of a URL, for error messages: reply URLs are capabilities and are never logged whole. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}

/** The first line of a text, trimmed, for titles and notifications. */
export function firstLine(text: string, max: number): string {
  const line = text.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  return truncate(line, max, '…');
}

export type FetchLike = typeof fetch;

/** Options of {@link postJson}. */
export interface PostOptions {
  /** Names the destination in errors; the URL's path and query (often a capability) are never included. */
  what: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Return non-2xx answers instead of throwing, for APIs whose JSON error body says more than the status. */
  anyStatus?: boolean;
}

/**
 * POSTs JSON and returns the status and response text; throws ChatSendError on a network error, a
 * timeout or (unless anyStatus) a non-2xx status.
 */
export async function postJson(fetchImpl: FetchLike, url: string, body: unknown, options: PostOptions): Promise<{ status: number; text: string }> {
  const timeoutMs = options.timeoutMs ?? SEND_TIMEOUT_MS;
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...options.headers },
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const why = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError') ? `no answer within ${timeoutMs} ms` : 'network error';
    throw new ChatSendError(`${options.what} (${hostOf(url)}): ${why}`, { cause: e });
  }
  const text = await response.text().catch(() => '');
  if (!options.anyStatus && (response.status < 200 || response.status > 299)) {
    throw new ChatSendError(`${options.what} (${hostOf(url)}) answered HTTP ${response.status}: ${truncate(text.replace(/\s+/g, ' '), 200, '…')}`);
  }
  return { status: response.status, text };
}

/**
 * Whether a reply URL taken from a request body may be POSTed to: its origin must be one of the
 * allowed ones. A body is attacker-controlled wherever its signature does not cover it (DingTalk),
 * and follow-ups carry run results, so they go only to the platform's own hosts.
 */
export function originAllowed(url: string, allowedOrigins: readonly string[]): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'https:' || u.protocol === 'http:') && allowedOrigins.includes(u.origin);
  } catch {
    return false;
  }
}

/** A request answered directly, with no command: a challenge, a repeated delivery, an ignored event. */
export function handshake(response: HttpResponse): Verified {
  return { kind: 'handshake', response };
}
