import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChatSendError, createCodecs, createSender, MemoryReplayGuard } from '../../shared/chat/codecs.ts';
import type { ChatMessage } from '../../shared/chat/types.ts';

/** One request as the local server saw it. */
interface Captured {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

type Handler = (req: Captured, res: ServerResponse) => void;

/** A capturing HTTP server on a free loopback port; each test installs its own handler. */
class CaptureServer {
  readonly requests: Captured[] = [];
  handler: Handler = (_req, res) => res.end('ok');
  private server: Server | undefined;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const captured = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(captured);
        this.handler(captured, res);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const server = new CaptureServer();
beforeAll(() => server.start());
afterAll(() => server.stop());
beforeEach(() => {
  server.requests.length = 0;
  server.handler = (_req, res) => res.end('ok');
});

const message: ChatMessage = { text: 'Run r-1 finished: 3 ok, 1 failed', markdown: '**3** ok, **1** failed', link: { title: 'Report', url: 'https://oss.example/r-1' } };

describe('Function: createSender — Slack', () => {
  it('POSTs the rendered message as JSON to response_url', async () => {
    // Act
    await createSender({}).send({ platform: 'slack', responseUrl: `${server.base}/commands/T1/397/abc`, channelId: 'C1' }, message);

    // Assess
    expect(server.requests).toHaveLength(1);
    const [req] = server.requests;
    expect(req).toMatchObject({ method: 'POST', url: '/commands/T1/397/abc' });
    expect(req?.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(req?.body ?? '')).toEqual({
      response_type: 'in_channel',
      replace_original: false,
      text: 'Run r-1 finished: 3 ok, 1 failed',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*3* ok, *1* failed\n<https://oss.example/r-1|Report>' } }],
    });
  });

  it('throws ChatSendError for an expired response_url, naming the host but not the capability path', async () => {
    server.handler = (_req, res) => {
      res.writeHead(404);
      res.end('expired_url');
    };
    const send = createSender({}).send({ platform: 'slack', responseUrl: `${server.base}/commands/SECRET-PATH` }, message);
    await expect(send).rejects.toThrow(ChatSendError);
    await expect(send).rejects.toThrow(/HTTP 404: expired_url/);
    await expect(send).rejects.not.toThrow(/SECRET-PATH/);
  });
});

describe('Function: createSender — DingTalk', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  const sender = createSender({}, fetch, { now: () => now });

  it('POSTs a markdown message to the sessionWebhook', async () => {
    server.handler = (_req, res) => json(res, 200, { errcode: 0, errmsg: 'ok' });
    await sender.send({ platform: 'dingtalk', sessionWebhook: `${server.base}/robot/sendBySession?session=s1`, expiresAt: now.getTime() + 60_000 }, message);
    expect(server.requests[0]?.url).toBe('/robot/sendBySession?session=s1');
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({
      msgtype: 'markdown',
      markdown: { title: 'Run r-1 finished: 3 ok, 1 failed', text: '**3** ok, **1** failed\n\n[Report](https://oss.example/r-1)' },
    });
  });

  it('refuses to send after the session expired, without a request', async () => {
    const send = sender.send({ platform: 'dingtalk', sessionWebhook: `${server.base}/robot/sendBySession?session=s1`, expiresAt: now.getTime() - 1 }, message);
    await expect(send).rejects.toThrow(ChatSendError);
    await expect(send).rejects.toThrow(/sessionWebhook expired at 2026-11-23T09:59:59.999Z/);
    expect(server.requests).toHaveLength(0);
  });

  it('throws on errcode ≠ 0 (DingTalk refuses with HTTP 200)', async () => {
    server.handler = (_req, res) => json(res, 200, { errcode: 300001, errmsg: 'session 不存在' });
    await expect(sender.send({ platform: 'dingtalk', sessionWebhook: `${server.base}/robot/sendBySession?session=gone` }, message)).rejects.toThrow(/errcode 300001/);
  });
});

describe('Function: createSender — Lark', () => {
  const appId = 'cli_test_app';
  const appSecret = 'lark-app-secret-0001';

  /** A local Open Platform: tokens for our app only, replies only with a token it issued and still honours. */
  function openPlatform(state: { issued: string[]; valid: Set<string> }): Handler {
    return (req, res) => {
      if (req.url === '/open-apis/auth/v3/tenant_access_token/internal') {
        const body = JSON.parse(req.body) as { app_id?: string; app_secret?: string };
        if (body.app_id !== appId || body.app_secret !== appSecret) return json(res, 200, { code: 10014, msg: 'app secret invalid' });
        const token = `t-${state.issued.length + 1}`;
        state.issued.push(token);
        state.valid.add(token);
        return json(res, 200, { code: 0, msg: 'ok', tenant_access_token: token, expire: 7200 });
      }
      const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!state.valid.has(token)) return json(res, 400, { code: 99991663, msg: 'Invalid access token for authorization.' });
      return json(res, 200, { code: 0, msg: 'success', data: { message_id: 'om_reply' } });
    };
  }

  it('fetches a tenant_access_token, replies to the message, and reuses the token until near expiry', async () => {
    // Arrange
    const state = { issued: [] as string[], valid: new Set<string>() };
    server.handler = openPlatform(state);
    let now = new Date('2026-11-23T10:00:00Z');
    const sender = createSender({ lark: { verificationToken: 'tok-0001', appId, appSecret, apiBase: `${server.base}/` } }, fetch, { now: () => now });
    const target = { platform: 'lark' as const, chatId: 'oc_1', messageId: 'om_1' };

    // Act
    await sender.send(target, { text: 'first' });
    await sender.send(target, message);
    now = new Date(now.getTime() + 7200_000 - 60_000); // inside the 5-minute renewal margin
    await sender.send(target, { text: 'third' });

    // Assess
    expect(server.requests.map((r) => r.url)).toEqual([
      '/open-apis/auth/v3/tenant_access_token/internal',
      '/open-apis/im/v1/messages/om_1/reply',
      '/open-apis/im/v1/messages/om_1/reply',
      '/open-apis/auth/v3/tenant_access_token/internal',
      '/open-apis/im/v1/messages/om_1/reply',
    ]);
    expect(JSON.parse(server.requests[0]?.body ?? '')).toEqual({ app_id: appId, app_secret: appSecret });
    expect(server.requests[1]?.headers.authorization).toBe('Bearer t-1');
    expect(JSON.parse(server.requests[1]?.body ?? '')).toEqual({ msg_type: 'text', content: '{"text":"first"}' });
    const card = JSON.parse(server.requests[2]?.body ?? '') as { msg_type: string; content: string };
    expect(card.msg_type).toBe('interactive');
    expect(JSON.parse(card.content)).toMatchObject({ elements: [{ tag: 'markdown', content: '**3** ok, **1** failed\n[Report](https://oss.example/r-1)' }] });
    expect(server.requests[4]?.headers.authorization).toBe('Bearer t-2');
  });

  it('posts to the chat when there is no message to reply to', async () => {
    server.handler = openPlatform({ issued: [], valid: new Set() });
    await createSender({ lark: { encryptKey: 'key-00000001', appId, appSecret, apiBase: server.base } }).send({ platform: 'lark', chatId: 'oc_9' }, { text: 'hi' });
    expect(server.requests[1]?.url).toBe('/open-apis/im/v1/messages?receive_id_type=chat_id');
    expect(JSON.parse(server.requests[1]?.body ?? '')).toEqual({ receive_id: 'oc_9', msg_type: 'text', content: '{"text":"hi"}' });
  });

  it('fetches a new token once when Lark says the cached one is invalid', async () => {
    const state = { issued: [] as string[], valid: new Set<string>() };
    server.handler = openPlatform(state);
    const sender = createSender({ lark: { verificationToken: 'tok-0001', appId, appSecret, apiBase: server.base } });
    await sender.send({ platform: 'lark', chatId: 'oc_1', messageId: 'om_1' }, { text: 'one' });
    state.valid.clear(); // revoked on Lark's side before its stated expiry

    await sender.send({ platform: 'lark', chatId: 'oc_1', messageId: 'om_1' }, { text: 'two' });

    expect(state.issued).toEqual(['t-1', 't-2']);
    expect(server.requests.at(-1)?.headers.authorization).toBe('Bearer t-2');
  });

  it('throws ChatSendError when the app credentials are refused, or not configured', async () => {
    server.handler = openPlatform({ issued: [], valid: new Set() });
    const wrong = createSender({ lark: { verificationToken: 'tok-0001', appId, appSecret: 'wrong-secret-0001', apiBase: server.base } });
    const send = wrong.send({ platform: 'lark', chatId: 'oc_1' }, { text: 'x' });
    await expect(send).rejects.toThrow(/tenant_access_token refused: code 10014/);
    await expect(send).rejects.not.toThrow(/wrong-secret-0001/);
    await expect(createSender({}).send({ platform: 'lark', chatId: 'oc_1' }, { text: 'x' })).rejects.toThrow(/lark.appId and lark.appSecret/);
  });

  it('throws ChatSendError when the reply is refused', async () => {
    server.handler = (req, res) =>
      req.url?.includes('tenant_access_token') ? json(res, 200, { code: 0, tenant_access_token: 't-x', expire: 7200 }) : json(res, 400, { code: 230002, msg: 'Bot is not in the chat.' });
    const send = createSender({ lark: { verificationToken: 'tok-0001', appId, appSecret, apiBase: server.base } }).send({ platform: 'lark', chatId: 'oc_1' }, { text: 'x' });
    await expect(send).rejects.toThrow(/code 230002 Bot is not in the chat/);
  });
});

describe('Function: createSender — webhook', () => {
  const secret = 'webhook-secret-for-tests-0001';
  const now = new Date('2026-11-23T10:00:00Z');

  it('POSTs the ack JSON to callbackUrl, signed so the receiver can verify it with the same scheme', async () => {
    // Act
    await createSender({ webhook: { secret, callbackOrigins: [server.base] } }, fetch, { now: () => now }).send({ platform: 'webhook', callbackUrl: `${server.base}/callback` }, message);

    // Assess: recomputed here independently, then checked by the codec a receiver would run.
    const [req] = server.requests;
    expect(JSON.parse(req?.body ?? '')).toEqual({ ok: true, message: message.text, markdown: message.markdown, link: message.link });
    const timestamp = String(req?.headers['x-fleetrun-timestamp']);
    expect(timestamp).toBe(String(now.getTime() / 1000));
    expect(req?.headers['x-fleetrun-signature']).toBe(`v1=${createHmac('sha256', secret).update(`${timestamp}.${req?.body ?? ''}`).digest('hex')}`);
    const receiver = createCodecs({ webhook: { secret } }, new MemoryReplayGuard()).webhook;
    const headers = { 'x-fleetrun-timestamp': timestamp, 'x-fleetrun-signature': String(req?.headers['x-fleetrun-signature']) };
    const verified = await receiver?.verify({ method: 'POST', path: '/webhook', headers, query: {}, body: Buffer.from(req?.body ?? '') }, now);
    // Signature and time pass; the body is a reply, not a command, so the schema is what refuses it.
    expect(verified).toMatchObject({ kind: 'refused', status: 400, reason: expect.stringMatching(/not a fleetrun webhook body/) });
  });

  it('sends nothing without a callbackUrl, and needs the secret to send', async () => {
    await createSender({ webhook: { secret } }).send({ platform: 'webhook' }, message);
    expect(server.requests).toHaveLength(0);
    await expect(createSender({}).send({ platform: 'webhook', callbackUrl: `${server.base}/callback` }, message)).rejects.toThrow(/webhook.secret/);
  });

  it('throws ChatSendError when the receiver answers an error', async () => {
    server.handler = (_req, res) => json(res, 500, { error: 'boom' });
    await expect(createSender({ webhook: { secret, callbackOrigins: [server.base] } }).send({ platform: 'webhook', callbackUrl: `${server.base}/callback` }, message)).rejects.toThrow(/HTTP 500/);
  });

  it('sends nothing to a callbackUrl off the listed origins: ChatSendError names its host, not its path', async () => {
    const send = createSender({ webhook: { secret, callbackOrigins: ['https://ci.example.com'] } }).send({ platform: 'webhook', callbackUrl: `${server.base}/_fleet/instances/i-1/agent?online=false` }, message);
    await expect(send).rejects.toThrow(ChatSendError);
    await expect(send).rejects.toThrow(new RegExp(`\\(${new URL(server.base).host}\\) is not on an origin FLEETRUN_WEBHOOK_CALLBACK_ORIGINS lists`));
    await expect(send).rejects.not.toThrow(/_fleet/);
    expect(server.requests).toHaveLength(0);
  });

  it('follows no redirect: a 3xx from a listed origin is a ChatSendError, and its Location gets nothing', async () => {
    const elsewhere = new CaptureServer();
    await elsewhere.start();
    try {
      for (const status of [301, 302, 303, 307, 308]) {
        server.handler = (_req, res) => {
          res.writeHead(status, { location: `${elsewhere.base}/_fleet/instances/i-1/agent?online=false` });
          res.end();
        };
        const send = createSender({ webhook: { secret, callbackOrigins: [server.base] } }).send({ platform: 'webhook', callbackUrl: `${server.base}/callback` }, message);
        await expect(send, String(status)).rejects.toThrow(new RegExp(`answered a redirect \\(HTTP ${status}\\), which is not followed`));
      }
      expect(server.requests).toHaveLength(5);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.stop();
    }
  });
});

describe('Function: createSender — no platform follows a redirect', () => {
  it('Slack and DingTalk reply URLs answering 302 are refused, and the redirect target gets nothing', async () => {
    const elsewhere = new CaptureServer();
    await elsewhere.start();
    try {
      server.handler = (_req, res) => {
        res.writeHead(302, { location: `${elsewhere.base}/stolen` });
        res.end();
      };
      const sender = createSender({});
      await expect(sender.send({ platform: 'slack', responseUrl: `${server.base}/commands/T1/1/abc` }, message)).rejects.toThrow(/redirect \(HTTP 302\)/);
      await expect(sender.send({ platform: 'dingtalk', sessionWebhook: `${server.base}/robot/sendBySession?session=1` }, message)).rejects.toThrow(/redirect \(HTTP 302\)/);
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.stop();
    }
  });
});
