/**
 * What the chat codec tests (test/unit/chat-*.test.ts) build and check for every platform: a signed
 * request as the HTTP trigger adapter hands it to a codec, a replay guard on the test's clock, and
 * the three outcomes of `verify` — a command, a refusal that gives no secret away, a handshake.
 */
import { expect } from 'vitest';
import { MemoryReplayGuard } from '../../shared/chat/codecs.ts';
import type { InboundCommand, Verified } from '../../shared/chat/types.ts';
import type { HttpRequest } from '../../shared/runtime/http.ts';

/** A POST of `body` to `path` with `headers` (a platform's signature headers, or none), as a codec receives it. */
export function chatPost(path: string, body: string, headers: Record<string, string>): HttpRequest {
  return { method: 'POST', path, headers, query: {}, body: Buffer.from(body, 'utf8') };
}

/** A replay guard whose clock stands at `now`, so what it remembers expires by the test's time, not the machine's. */
export function replayGuardAt(now: Date): MemoryReplayGuard {
  return new MemoryReplayGuard(() => now.getTime());
}

/** The command a verified request carries; throws, showing what came instead, for anything else. */
export function expectCommand(v: Verified): InboundCommand {
  if (v.kind !== 'command') throw new Error(`expected a command, got ${JSON.stringify(v)}`);
  return v.command;
}

/** The refusal, with its `status`; its reason (which gets logged) must contain none of `secrets`. */
export function expectRefusal(v: Verified, status: 400 | 401, secrets: readonly string[]): Extract<Verified, { kind: 'refused' }> {
  if (v.kind !== 'refused') throw new Error(`expected a refusal, got ${JSON.stringify(v)}`);
  expect(v.status).toBe(status);
  for (const secret of secrets) expect(v.reason).not.toContain(secret);
  return v;
}

/** The JSON body of a handshake (an answer with no command behind it), which is always a 200. */
export function expectHandshake(v: Verified): unknown {
  if (v.kind !== 'handshake') throw new Error(`expected a handshake, got ${JSON.stringify(v)}`);
  expect(v.response.statusCode).toBe(200);
  return JSON.parse(String(v.response.body));
}
