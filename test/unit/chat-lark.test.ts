import { describe, it, expect } from 'vitest';
import { createLarkCodec, renderLarkMessage, stripLarkMentions, type LarkOptions } from '../../shared/chat/platforms/lark.ts';
import { MemoryReplayGuard } from '../../shared/chat/codecs.ts';
import { larkEncrypt, larkHeaders } from '../../shared/chat/sign.ts';
import type { ChatCodec, Verified } from '../../shared/chat/types.ts';
import type { HttpRequest } from '../../shared/runtime/http.ts';
import { NOT_AUTHENTICATED } from '../../shared/chat/platforms/verify-steps.ts';
import { chatPost, expectCommand, expectHandshake, expectRefusal, replayGuardAt } from '../support/chat-codec-requests.ts';

const TOKEN = 'lark-verification-token-0001';
const KEY = 'lark-encrypt-key-for-tests-0001';
const APP_ID = 'cli_a1b2c3d4e5f6';
const NOW = new Date('2026-11-23T10:00:00Z');

function event(overrides: { header?: Record<string, unknown>; event?: Record<string, unknown>; message?: Record<string, unknown>; sender?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    schema: '2.0',
    header: {
      event_id: '5e3702a84e847582be8db7fb73283c02',
      token: TOKEN,
      create_time: String(NOW.getTime() - 1_000),
      event_type: 'im.message.receive_v1',
      tenant_key: '2ca1d211f64f6438',
      app_id: APP_ID,
      ...overrides.header,
    },
    event: {
      sender: { sender_id: { union_id: 'on_8ed6aa67826108097d9ee143816345', user_id: 'e33ggbyz', open_id: 'ou_84aad35d084aa403a838cf73ee18467' }, sender_type: 'user', tenant_key: '736588c9260f175e', ...overrides.sender },
      message: {
        message_id: 'om_5ce6d572455d361153b7cb51da133945',
        root_id: '',
        parent_id: '',
        create_time: String(NOW.getTime() - 1_000),
        chat_id: 'oc_5ce6d572455d361153b7xx51da133945',
        chat_type: 'group',
        message_type: 'text',
        content: JSON.stringify({ text: '@_user_1 run uptime on tag:env=prod' }),
        mentions: [{ key: '@_user_1', id: { open_id: 'ou_bot' }, name: 'fleetrun', tenant_key: '736588c9260f175e' }],
        ...overrides.message,
      },
      ...overrides.event,
    },
  };
}

function plain(payload: unknown): HttpRequest {
  return chatPost('/lark', JSON.stringify(payload), { 'content-type': 'application/json' });
}

/** What Lark sends with an encrypt key: `{encrypt}` and the signature headers over those exact bytes. */
function encrypted(payload: unknown, at: Date = NOW, key = KEY, nonce?: string): HttpRequest {
  const body = JSON.stringify({ encrypt: larkEncrypt(key, JSON.stringify(payload)) });
  return chatPost('/lark', body, larkHeaders(key, body, at, nonce));
}

function codec(options: LarkOptions = { verificationToken: TOKEN }): ChatCodec {
  return createLarkCodec(options, replayGuardAt(NOW));
}

const expectRefused = (v: Verified, status: 400 | 401): string => expectRefusal(v, status, [TOKEN, KEY]).reason;

describe('Function: createLarkCodec — verification token mode', () => {
  it('accepts a message event and reads who, where and the text without the @mention', async () => {
    const command = expectCommand(await codec().verify(plain(event()), NOW));
    expect(command).toEqual({
      platform: 'lark',
      user: { id: 'ou_84aad35d084aa403a838cf73ee18467' },
      channel: { id: 'oc_5ce6d572455d361153b7xx51da133945' },
      text: 'run uptime on tag:env=prod',
      replyTo: { platform: 'lark', chatId: 'oc_5ce6d572455d361153b7xx51da133945', messageId: 'om_5ce6d572455d361153b7cb51da133945' },
      deliveryId: 'lark:5e3702a84e847582be8db7fb73283c02',
    });
  });

  it('answers url_verification with the challenge', async () => {
    const v = await codec().verify(plain({ challenge: 'ajls384kdjx98XX', token: TOKEN, type: 'url_verification' }), NOW);
    expect(expectHandshake(v)).toEqual({ challenge: 'ajls384kdjx98XX' });
  });

  it('401 for a url_verification or an event with the wrong token', async () => {
    expectRefused(await codec().verify(plain({ challenge: 'c', token: 'not-the-token', type: 'url_verification' }), NOW), 401);
    expect(expectRefused(await codec().verify(plain(event({ header: { token: 'not-the-token' } })), NOW), 401)).toMatch(/verification token/);
    expectRefused(await codec().verify(plain(event({ header: { token: undefined } })), NOW), 401);
  });

  it('401 for an event for another app when appId is configured', async () => {
    const c = codec({ verificationToken: TOKEN, appId: 'cli_other' });
    expect(expectRefused(await c.verify(plain(event()), NOW), 401)).toMatch(/another app/);
  });

  it('401 for an event created more than 10 minutes ago, or more than 5 minutes ahead', async () => {
    expect(expectRefused(await codec().verify(plain(event({ header: { create_time: String(NOW.getTime() - 601_000) } })), NOW), 401)).toMatch(/601 s old/);
    expectRefused(await codec().verify(plain(event({ header: { create_time: String(NOW.getTime() + 301_000) } })), NOW), 401);
    expectCommand(await codec().verify(plain(event({ header: { create_time: NOW.getTime() - 590_000 } })), NOW));
  });

  it('acknowledges a redelivered event_id with {} and no second command (Lark retries)', async () => {
    const c = codec();
    expectCommand(await c.verify(plain(event()), NOW));
    expect(expectHandshake(await c.verify(plain(event()), new Date(NOW.getTime() + 15_000)))).toEqual({});
  });

  it('acknowledges other events, bots’ messages and non-text messages with {} and no command', async () => {
    expect(expectHandshake(await codec().verify(plain(event({ header: { event_type: 'im.chat.member.bot.added_v1' } })), NOW))).toEqual({});
    expectHandshake(await codec().verify(plain(event({ sender: { sender_type: 'app' } })), NOW));
    expectHandshake(await codec().verify(plain(event({ message: { message_type: 'image', content: '{"image_key":"img_1"}' } })), NOW));
  });

  it('400 for a body that is not JSON, not schema 2.0, or whose content is not text JSON', async () => {
    const bad = (body: string): HttpRequest => chatPost('/lark', body, { 'content-type': 'application/json' });
    expect(expectRefused(await codec().verify(bad('{"schema":'), NOW), 400)).toMatch(/not JSON/);
    expectRefused(await codec().verify(plain({ uuid: 'x', token: TOKEN, event: { type: 'message' } }), NOW), 400);
    expect(expectRefused(await codec().verify(plain(event({ header: { event_id: undefined } })), NOW), 400)).toMatch(/event_id/);
    expectRefused(await codec().verify(plain(event({ message: { content: 'not json' } })), NOW), 400);
    expectRefused(await codec().verify(plain(event({ message: { chat_id: undefined } })), NOW), 400);
  });

  it('400 for an encrypted body when no encrypt key is configured', async () => {
    expectRefused(await codec().verify(encrypted(event()), NOW), 400);
  });

  it('refuses to be created with neither a token nor an encrypt key', () => {
    expect(() => createLarkCodec({}, new MemoryReplayGuard())).toThrow(/verificationToken or an encryptKey/);
  });
});

describe('Function: createLarkCodec — encrypt key mode', () => {
  const keyed = (): ChatCodec => codec({ verificationToken: TOKEN, encryptKey: KEY, appId: APP_ID });

  it('decrypts a signed event and accepts it', async () => {
    const command = expectCommand(await keyed().verify(encrypted(event()), NOW));
    expect(command.text).toBe('run uptime on tag:env=prod');
  });

  it('works with an encrypt key and no verification token', async () => {
    expectCommand(await codec({ encryptKey: KEY }).verify(encrypted(event({ header: { token: undefined } })), NOW));
  });

  it('answers an encrypted url_verification, which Lark sends unsigned', async () => {
    const req = encrypted({ challenge: 'enc-challenge', token: TOKEN, type: 'url_verification' });
    const unsigned = { ...req, headers: { 'content-type': 'application/json' } };
    expect(expectHandshake(await keyed().verify(unsigned, NOW))).toEqual({ challenge: 'enc-challenge' });
  });

  it('401 for an unsigned event, even when it decrypts', async () => {
    const req = encrypted(event());
    expect(expectRefused(await keyed().verify({ ...req, headers: {} }, NOW), 401)).toMatch(/missing X-Lark-Signature/);
  });

  it('401 for an unsigned plaintext body', async () => {
    expectRefused(await keyed().verify(plain(event()), NOW), 401);
  });

  it('refuses every unsigned body that is not the challenge with one reason and one answer, whether it decrypts or not', async () => {
    const c = keyed();
    const unsigned = (body: string): HttpRequest => chatPost('/lark', body, { 'content-type': 'application/json' });
    const wrapped = (encrypt: string): HttpRequest => unsigned(JSON.stringify({ encrypt }));
    const bodies = [
      wrapped(Buffer.alloc(48, 7).toString('base64')), // bad padding
      wrapped(larkEncrypt(KEY, 'not json at all')), // good padding, not JSON
      wrapped(larkEncrypt(KEY, JSON.stringify(event()))), // a genuine event, unsigned
      wrapped(larkEncrypt(KEY, JSON.stringify({ challenge: 'c', token: 'not-the-token', type: 'url_verification' }))), // the challenge with a wrong token
      wrapped(larkEncrypt('another-encrypt-key-9999', JSON.stringify({ challenge: 'c', token: TOKEN, type: 'url_verification' }))),
      wrapped('%%%'),
      unsigned('{"encrypt":'),
      unsigned(''),
    ];
    const refusals = await Promise.all(bodies.map(async (req) => expectRefusal(await c.verify(req, NOW), 401, [TOKEN, KEY])));
    expect(new Set(refusals.map((r) => r.reason)).size).toBe(1);
    expect(new Set(refusals.map((r) => String(c.refuse!(r).body))).size).toBe(1);
  });

  it('answers every 401 alike, whichever check failed; a 400 after authentication says why', async () => {
    const c = keyed();
    const req = encrypted(event());
    const { 'x-lark-request-nonce': _n, ...noNonce } = req.headers;
    const refusals = [
      await c.verify({ ...req, headers: noNonce }, NOW),
      await c.verify({ ...req, headers: { ...req.headers, 'x-lark-signature': 'f'.repeat(64) } }, NOW),
      await c.verify(encrypted(event(), new Date(NOW.getTime() - 301_000)), NOW),
      await c.verify({ ...req, headers: {} }, NOW),
    ].map((v) => expectRefusal(v, 401, [TOKEN, KEY]));
    const answers = new Set(refusals.map((r) => JSON.stringify(c.refuse!(r))));
    expect([...answers]).toEqual([JSON.stringify({ statusCode: 401, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ error: NOT_AUTHENTICATED }) })]);
    const damaged = JSON.stringify({ encrypt: Buffer.alloc(48, 7).toString('base64') });
    const answer = c.refuse!(expectRefusal(await c.verify(chatPost('/lark', damaged, larkHeaders(KEY, damaged, NOW)), NOW), 400, [TOKEN, KEY]));
    expect(JSON.parse(String(answer.body))).toEqual({ error: 'cannot decrypt the body: wrong encrypt key or damaged data' });
  });

  it('401 for a signature over another body, a wrong key, or a forged value', async () => {
    const req = encrypted(event());
    const other = encrypted(event({ message: { content: JSON.stringify({ text: 'run rm -rf /' }) } }));
    expect(expectRefused(await keyed().verify({ ...other, headers: req.headers }, NOW), 401)).toMatch(/X-Lark-Signature does not match/);
    expectRefused(await keyed().verify(encrypted(event(), NOW, 'another-encrypt-key-9999'), NOW), 401);
    expectRefused(await keyed().verify({ ...req, headers: { ...req.headers, 'x-lark-signature': 'f'.repeat(64) } }, NOW), 401);
  });

  it('401 for missing timestamp or nonce beside a signature', async () => {
    const req = encrypted(event());
    const { 'x-lark-request-nonce': _n, ...noNonce } = req.headers;
    const { 'x-lark-request-timestamp': _t, ...noTimestamp } = req.headers;
    expect(expectRefused(await keyed().verify({ ...req, headers: noNonce }, NOW), 401)).toMatch(/Nonce/);
    expect(expectRefused(await keyed().verify({ ...req, headers: noTimestamp }, NOW), 401)).toMatch(/Timestamp/);
  });

  it('401 for a request timestamp more than 5 minutes old or ahead', async () => {
    expectRefused(await keyed().verify(encrypted(event(), new Date(NOW.getTime() - 301_000)), NOW), 401);
    expectRefused(await keyed().verify(encrypted(event(), new Date(NOW.getTime() + 301_000)), NOW), 401);
  });

  it('401 for a replay of the exact signed request', async () => {
    const c = keyed();
    const req = encrypted(event());
    expectCommand(await c.verify(req, NOW));
    expect(expectRefused(await c.verify(req, NOW), 401)).toMatch(/replayed/);
  });

  it('400 for a signed body that cannot be decrypted or is not {encrypt}', async () => {
    const damaged = JSON.stringify({ encrypt: Buffer.alloc(48, 7).toString('base64') });
    const req = chatPost('/lark', damaged, larkHeaders(KEY, damaged, NOW));
    expect(expectRefused(await keyed().verify(req, NOW), 400)).toMatch(/cannot decrypt/);
    const clear = JSON.stringify(event());
    expect(expectRefused(await keyed().verify({ ...req, headers: larkHeaders(KEY, clear, NOW), body: Buffer.from(clear) }, NOW), 400)).toMatch(/not \{encrypt\}/);
  });

  it('decrypts the documented vector: "test key" → "hello world"', async () => {
    // Lark's documentation example. Signed, so the decryption step is reached; its plaintext is not JSON.
    const body = JSON.stringify({ encrypt: 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=' });
    const c = createLarkCodec({ encryptKey: 'test key' }, new MemoryReplayGuard());
    const v = await c.verify(chatPost('/lark', body, larkHeaders('test key', body, NOW)), NOW);
    expect(expectRefused(v, 400)).toBe('the decrypted body is not JSON');
  });
});

describe('Function: stripLarkMentions', () => {
  it('removes placeholders wherever they are, with the space after them', () => {
    expect(stripLarkMentions('@_user_1 run uptime')).toBe('run uptime');
    expect(stripLarkMentions('run @_user_2 uptime on @_user_10')).toBe('run uptime on');
    expect(stripLarkMentions('@_all  status r-1 ')).toBe('status r-1');
  });
});

describe('Function: createLarkCodec — ack and rendering', () => {
  it('acks with {} (Lark shows nothing from the callback answer)', () => {
    const response = codec().ack({ text: 'Starting run r-1' });
    expect(response).toMatchObject({ statusCode: 200, body: '{}' });
  });

  it('renders plain text as a text message and Markdown or a link as a card', () => {
    expect(renderLarkMessage({ text: 'hello' })).toEqual({ msg_type: 'text', content: '{"text":"hello"}' });
    const card = renderLarkMessage({ text: 'Run r-1 finished\n3 ok', markdown: '**3** ok', link: { title: 'Report', url: 'https://oss.example/r' } });
    expect(card.msg_type).toBe('interactive');
    expect(JSON.parse(card.content)).toEqual({
      config: { wide_screen_mode: true },
      header: { title: { tag: 'plain_text', content: 'Run r-1 finished' } },
      elements: [{ tag: 'markdown', content: '**3** ok\n[Report](https://oss.example/r)' }],
    });
  });
});
