/**
 * Pieces every codec's rendering and sender shares: JSON read without throwing, visible
 * truncation, Markdown links, and a JSON POST with a deadline. The checks of an incoming request
 * are in `./verify-steps.ts`.
 */
import type { z } from 'zod';

/**
 * How long a follow-up POST may take, its answer read included: FC functions have a deadline (the
 * schedule function's is 120 s, and it replies for many runs), and a hung chat API or callback
 * receiver must not eat it. No platform documents a deadline for these POSTs; 10 s is fleetrun's own.
 */
export const SEND_TIMEOUT_MS = 10_000;

/** A follow-up message could not be delivered. The message never contains a secret or a full capability URL. */
export class ChatSendError extends Error {
  override readonly name = 'ChatSendError';
}

/** JSON.parse that answers `{ ok: false }` instead of throwing. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Text read as JSON of a schema's shape (an API's answer, a message's content); undefined when it is not JSON or not that shape. */
export function jsonAs<S extends z.ZodType>(text: string, schema: S): z.output<S> | undefined {
  const json = parseJson(text);
  if (!json.ok) return undefined;
  const parsed = schema.safeParse(json.value);
  return parsed.success ? parsed.data : undefined;
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

/** A Markdown link; square brackets are dropped from the title, where they would end the link text early. */
export function markdownLink(link: { title: string; url: string }): string {
  return `[${link.title.replace(/[[\]]/g, '')}](${link.url})`;
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
 * timeout, a redirect or (unless anyStatus) a non-2xx status. Redirects are never followed: every
 * reply URL is held to its platform's (or the webhook's listed) origins, and a 3xx from one of
 * them must not carry the POST — run results, a signed body — anywhere else.
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
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const why = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError') ? `no answer within ${timeoutMs} ms` : 'network error';
    throw new ChatSendError(`${options.what} (${hostOf(url)}): ${why}`, { cause: e });
  }
  if ((response.status >= 300 && response.status < 400) || response.type === 'opaqueredirect') {
    await response.body?.cancel().catch(() => {});
    throw new ChatSendError(`${options.what} (${hostOf(url)}) answered a redirect (HTTP ${response.status}), which is not followed`);
  }
  const text = await response.text().catch(() => '');
  if (!options.anyStatus && (response.status < 200 || response.status > 299)) {
    throw new ChatSendError(`${options.what} (${hostOf(url)}) answered HTTP ${response.status}: ${truncate(text.replace(/\s+/g, ' '), 200, '…')}`);
  }
  return { status: response.status, text };
}
