import { describe, it, expect } from 'vitest';
import { createWebhookCodec, sendWebhook } from '../../shared/chat/platforms/webhook.ts';
import { startChatThread, type ThreadReply } from '../../local/cli/chat-thread.ts';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import type { ChatCodec, Verified } from '../../shared/chat/types.ts';
import type { HttpRequest } from '../../shared/runtime/http.ts';
import { REFUSALS, refusal, type RefusalCode } from '../../shared/chat/refusals.ts';
import { chatPost, expectCommand, expectHandshake, expectRefusal, replayGuardAt } from '../support/chat-codec-requests.ts';

const SECRET = 'webhook-secret-for-tests-0001';
const NOW = new Date('2026-11-23T10:00:00Z');

function body(overrides: Record<string, unknown> = {}): string {
  // An override of undefined leaves the field out: JSON.stringify drops it.
  return JSON.stringify({ user: 'alice', channel: 'ops', text: ' run uptime on tag:env=prod ', callbackUrl: 'https://chat.example/fleetrun/callback', id: 'req-1', ...overrides });
}

function request(raw: string, headers: Record<string, string> = webhookHeaders(SECRET, raw, NOW)): HttpRequest {
  return chatPost('/webhook', raw, headers);
}

/** The origin the bodies' callbackUrl is on, listed as a deployment lists it. */
const CALLBACK_ORIGIN = 'https://chat.example';

function codec(callbackOrigins: readonly string[] = [CALLBACK_ORIGIN]): ChatCodec {
  return createWebhookCodec({ secret: SECRET, callbackOrigins }, replayGuardAt(NOW));
}

function expectRefused(verified: Verified, status: 400 | 401, code?: RefusalCode): string {
  const v = expectRefusal(verified, status, [SECRET]);
  // Every refusal of the webhook carries a code, and its status is the code's.
  expect(v.code).toBeDefined();
  expect(REFUSALS[v.code!].status).toBe(status);
  if (code !== undefined) expect(v.code).toBe(code);
  return v.reason;
}

describe('Function: createWebhookCodec — verify', () => {
  it('accepts a signed request and reads who, where, what and where to reply', async () => {
    const command = expectCommand(await codec().verify(request(body()), NOW));
    expect(command).toEqual({
      platform: 'webhook',
      user: { id: 'alice' },
      channel: { id: 'ops' },
      text: 'run uptime on tag:env=prod',
      replyTo: { platform: 'webhook', callbackUrl: 'https://chat.example/fleetrun/callback' },
      deliveryId: 'webhook:req-1',
    });
  });

  it('takes a minimal body: no channel, no callback, no id (deliveryId from the signature)', async () => {
    const command = expectCommand(await codec().verify(request(body({ channel: undefined, callbackUrl: undefined, id: undefined })), NOW));
    expect(command.channel).toBeUndefined();
    expect(command.replyTo).toEqual({ platform: 'webhook' });
    expect(command.deliveryId).toMatch(/^webhook:sig:[0-9a-f]{32}$/);
  });

  it('401 for another secret, a forged signature, or a body altered after signing', async () => {
    const raw = body();
    const headers = webhookHeaders(SECRET, raw, NOW);
    expect(expectRefused(await codec().verify(request(raw, webhookHeaders('another-secret-0002', raw, NOW)), NOW), 401, 'BadSignature')).toMatch(/does not match/);
    expectRefused(await codec().verify(request(raw, { ...headers, 'x-fleetrun-signature': `v1=${'a'.repeat(64)}` }), NOW), 401);
    expectRefused(await codec().verify(request(raw, { ...headers, 'x-fleetrun-signature': (headers['x-fleetrun-signature'] ?? '').replace('v1=', 'v0=') }), NOW), 401);
    expectRefused(await codec().verify(request(body({ text: 'run rm -rf /' }), headers), NOW), 401, 'BadSignature');
  });

  it('401 for a timestamp more than 5 minutes old or ahead', async () => {
    const raw = body();
    expect(expectRefused(await codec().verify(request(raw, webhookHeaders(SECRET, raw, new Date(NOW.getTime() - 301_000))), NOW), 401, 'Expired')).toMatch(/old/);
    expect(expectRefused(await codec().verify(request(raw, webhookHeaders(SECRET, raw, new Date(NOW.getTime() + 301_000))), NOW), 401, 'Expired')).toMatch(/future/);
  });

  it('401 for missing or malformed headers', async () => {
    const raw = body();
    const { 'x-fleetrun-signature': _s, ...noSignature } = webhookHeaders(SECRET, raw, NOW);
    const { 'x-fleetrun-timestamp': _t, ...noTimestamp } = webhookHeaders(SECRET, raw, NOW);
    expect(expectRefused(await codec().verify(request(raw, noSignature), NOW), 401, 'BadSignature')).toMatch(/missing x-fleetrun-signature/);
    expect(expectRefused(await codec().verify(request(raw, noTimestamp), NOW), 401, 'BadSignature')).toMatch(/missing x-fleetrun-timestamp/);
    expectRefused(await codec().verify(request(raw, { ...webhookHeaders(SECRET, raw, NOW), 'x-fleetrun-timestamp': '-5' }), NOW), 401, 'BadSignature');
  });

  it('401 for a replay of the exact request', async () => {
    const c = codec();
    const req = request(body({ id: undefined }));
    expectCommand(await c.verify(req, NOW));
    expect(expectRefused(await c.verify(req, NOW), 401, 'Replayed')).toMatch(/replayed/);
  });

  it('acknowledges a re-signed retry with the same id, without a second command', async () => {
    const c = codec();
    const raw = body();
    expectCommand(await c.verify(request(raw), NOW));
    const later = new Date(NOW.getTime() + 2_000);
    const again = await c.verify(request(raw, webhookHeaders(SECRET, raw, later)), later);
    expect(expectHandshake(again)).toMatchObject({ ok: true, duplicate: true });
  });

  it('400 for a signed body that is not JSON or does not fit the schema', async () => {
    expect(expectRefused(await codec().verify(request('not json'), NOW), 400, 'BadRequest')).toMatch(/not JSON/);
    expect(expectRefused(await codec().verify(request(body({ user: undefined })), NOW), 400, 'BadRequest')).toMatch(/user/);
    expect(expectRefused(await codec().verify(request(body({ callbackURL: 'https://x.example' })), NOW), 400, 'BadRequest')).toMatch(/callbackURL/);
    expectRefused(await codec().verify(request(body({ callbackUrl: 'file:///etc/passwd' })), NOW), 400, 'BadRequest');
    expectRefused(await codec().verify(request(body({ text: 42 })), NOW), 400, 'BadRequest');
  });

  it('400 CallbackNotAllowed for a callbackUrl off the listed origins — matched exactly, none when none are listed', async () => {
    for (const callbackUrl of ['http://127.0.0.1:9000/_fleet/instances/i-1/agent?online=false', 'http://[::1]/x', 'http://10.0.0.8/x', 'http://chat.example/fleetrun', 'https://chat.example:8443/x', 'https://chat.example.evil.example/x', 'https://evil.example/?u=https://chat.example']) {
      expect(expectRefused(await codec().verify(request(body({ callbackUrl })), NOW), 400, 'CallbackNotAllowed'), callbackUrl).toMatch(/FLEETRUN_WEBHOOK_CALLBACK_ORIGINS/);
    }
    expectRefused(await codec([]).verify(request(body()), NOW), 400, 'CallbackNotAllowed');
    // Listed explicitly, a loopback origin is allowed like any other.
    expectCommand(await codec(['http://127.0.0.1:28760']).verify(request(body({ callbackUrl: 'http://127.0.0.1:28760/thread' })), NOW));
    // No callbackUrl needs no origin.
    expectCommand(await codec([]).verify(request(body({ callbackUrl: undefined })), NOW));
  });

  it('400 BadRequest for a request that is not a POST or is too large, before the signature is read', async () => {
    const raw = body();
    expect(expectRefused(await codec().verify({ ...request(raw), method: 'GET' }, NOW), 400, 'BadRequest')).toMatch(/expected POST/);
    const big = 'x'.repeat(1024 * 1024 + 1);
    expectRefused(await codec().verify(request(big), NOW), 400, 'BadRequest');
  });
});

describe('Function: createWebhookCodec — ack', () => {
  it('answers { ok, message, markdown?, link? }', () => {
    expect(JSON.parse(String(codec().ack({ text: 'Starting' }).body))).toEqual({ ok: true, message: 'Starting' });
    const full = codec().ack({ text: 'Done', markdown: '**3** ok', link: { title: 'Report', url: 'https://oss.example/r' } });
    expect(full.statusCode).toBe(200);
    expect(JSON.parse(String(full.body))).toEqual({ ok: true, message: 'Done', markdown: '**3** ok', link: { title: 'Report', url: 'https://oss.example/r' } });
  });

  it.each(Object.keys(REFUSALS) as RefusalCode[])('answers a refusal %s with its status and { ok: false, code, message } only', (code) => {
    const answer = codec().ack({ text: 'No run r-1.', markdown: '**No**', link: { title: 'x', url: 'https://x.example' }, refusal: refusal(code) });
    expect(answer.statusCode).toBe(REFUSALS[code].status);
    expect(answer.statusCode).toBeGreaterThanOrEqual(400);
    expect(answer.headers?.['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(String(answer.body))).toEqual({ ok: false, code, message: 'No run r-1.' });
  });

  it('refuse() answers a verify refusal with its status and code; a refusal without a code gets the status\'s general one', () => {
    const c = codec();
    const answer = c.refuse!({ kind: 'refused', status: 401, reason: 'replayed request', code: 'Replayed' });
    expect(answer.statusCode).toBe(401);
    // A 401 says its code's fixed meaning, never the reason verify logged.
    expect(JSON.parse(String(answer.body))).toEqual({ ok: false, code: 'Replayed', message: REFUSALS.Replayed.meaning });
    expect(c.refuse!({ kind: 'refused', status: 401, reason: 'missing x-fleetrun-signature header', code: 'BadSignature' }).body).toEqual(
      c.refuse!({ kind: 'refused', status: 401, reason: 'x-fleetrun-signature does not match', code: 'BadSignature' }).body,
    );
    expect(JSON.parse(String(c.refuse!({ kind: 'refused', status: 401, reason: 'x' }).body))).toMatchObject({ code: 'BadSignature' });
    expect(JSON.parse(String(c.refuse!({ kind: 'refused', status: 400, reason: 'x' }).body))).toMatchObject({ code: 'BadRequest' });
  });
});

describe('Function: sendWebhook', () => {
  it('posts a follow-up as { ok: true, … }, and one that reports a refusal as { ok: false, code, message }; the chat thread verifies and reads both', async () => {
    const replies: ThreadReply[] = [];
    const thread = await startChatThread(SECRET, (r) => replies.push(r));
    try {
      const target = { platform: 'webhook' as const, callbackUrl: thread.url };
      const callbackOrigins = [new URL(thread.url).origin];
      await sendWebhook(fetch, { secret: SECRET, callbackOrigins }, target, { text: 'uptime r-1: sent to 3 instances in 1 call.' }, new Date());
      await sendWebhook(fetch, { secret: SECRET, callbackOrigins }, target, { text: 'Run r-1 not started: too many targets', refusal: refusal('NotAllowed') }, new Date());
      // Signed with another secret: the thread drops it.
      await expect(sendWebhook(fetch, { secret: 'another-secret-0002', callbackOrigins }, target, { text: 'forged' }, new Date())).rejects.toThrow();
      // Its origin not listed: nothing is sent.
      await expect(sendWebhook(fetch, { secret: SECRET }, target, { text: 'not listed' }, new Date())).rejects.toThrow(/FLEETRUN_WEBHOOK_CALLBACK_ORIGINS/);
    } finally {
      await thread.close();
    }
    expect(replies).toEqual([
      { ok: true, message: 'uptime r-1: sent to 3 instances in 1 call.' },
      { ok: false, code: 'NotAllowed', message: 'Run r-1 not started: too many targets' },
    ]);
  });
});
