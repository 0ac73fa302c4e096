import { describe, it, expect } from 'vitest';
import { createDingtalkCodec, renderDingtalkMessage } from '../../shared/chat/platforms/dingtalk.ts';
import { dingtalkHeaders } from '../../shared/chat/sign.ts';
import type { ChatCodec, Verified } from '../../shared/chat/types.ts';
import type { HttpRequest } from '../../shared/runtime/http.ts';
import { chatPost, expectCommand, expectHandshake, expectRefusal, replayGuardAt } from '../support/chat-codec-requests.ts';

const SECRET = 'SECdingtalk-app-secret-for-tests-0001';
const NOW = new Date('2026-11-23T10:00:00Z');
const SESSION = 'https://oapi.dingtalk.com/robot/sendBySession?session=c8c3c1b5d1e0b7a2f6e0a7c1b3';

function callback(overrides: Record<string, unknown> = {}): string {
  const body: Record<string, unknown> = {
    msgtype: 'text',
    text: { content: ' run uptime on tag:env=prod' },
    msgId: 'msgXLsuJtn2vvJqx7uRfM4h3Q==',
    createAt: NOW.getTime() - 200,
    conversationType: '2',
    conversationId: 'cidM3E4lX7oXjuPqz3A2kB5Xw==',
    conversationTitle: 'ops on call',
    senderId: '$:LWCP_v1:$ZQOcSW7m1Pk9mYXnTlP+FQ==',
    senderNick: '张三',
    senderCorpId: 'ding123',
    senderStaffId: 'manager4521',
    chatbotUserId: '$:LWCP_v1:$robot==',
    sessionWebhook: SESSION,
    sessionWebhookExpiredTime: NOW.getTime() + 90 * 60_000,
    isAdmin: false,
    ...overrides,
  };
  // An override of undefined leaves the field out: JSON.stringify drops it.
  return JSON.stringify(body);
}

function request(body: string, headers: Record<string, string> = dingtalkHeaders(SECRET, NOW)): HttpRequest {
  return chatPost('/dingtalk', body, headers);
}

function codec(): ChatCodec {
  return createDingtalkCodec({ appSecret: SECRET }, replayGuardAt(NOW));
}

const expectRefused = (v: Verified, status: 400 | 401): string => expectRefusal(v, status, [SECRET]).reason;

/** Headers signed at `at`, with a distinct sign each time (a sign is accepted once). */
const signedAt = (at: Date): Record<string, string> => dingtalkHeaders(SECRET, at);

describe('Function: createDingtalkCodec — verify', () => {
  it('accepts a signed callback and reads who, where, what and where to reply', async () => {
    const command = expectCommand(await codec().verify(request(callback()), NOW));
    expect(command).toEqual({
      platform: 'dingtalk',
      user: { id: 'manager4521', name: '张三' },
      channel: { id: 'cidM3E4lX7oXjuPqz3A2kB5Xw==', name: 'ops on call' },
      text: 'run uptime on tag:env=prod',
      replyTo: { platform: 'dingtalk', sessionWebhook: SESSION, expiresAt: NOW.getTime() + 90 * 60_000, conversationId: 'cidM3E4lX7oXjuPqz3A2kB5Xw==' },
      deliveryId: 'dingtalk:msgXLsuJtn2vvJqx7uRfM4h3Q==',
    });
  });

  it('uses senderId for someone without a staff id', async () => {
    const command = expectCommand(await codec().verify(request(callback({ senderStaffId: undefined })), NOW));
    expect(command.user.id).toBe('$:LWCP_v1:$ZQOcSW7m1Pk9mYXnTlP+FQ==');
  });

  it('accepts a sign passed URL-encoded, as some gateways forward it', async () => {
    const headers = signedAt(NOW);
    expectCommand(await codec().verify(request(callback(), { ...headers, sign: encodeURIComponent(headers.sign ?? '') }), NOW));
  });

  it('accepts a timestamp 59 minutes old or ahead (DingTalk allows 1 hour)', async () => {
    const c = codec();
    expectCommand(await c.verify(request(callback(), signedAt(new Date(NOW.getTime() - 59 * 60_000))), NOW));
    expectCommand(await c.verify(request(callback({ msgId: 'm2' }), signedAt(new Date(NOW.getTime() + 59 * 60_000))), NOW));
  });

  it('401 for a sign made with another secret, and for a forged sign', async () => {
    expect(expectRefused(await codec().verify(request(callback(), dingtalkHeaders('SECsomebody-else-entirely', NOW)), NOW), 401)).toMatch(/sign does not match/);
    expectRefused(await codec().verify(request(callback(), { ...signedAt(NOW), sign: 'ROvr+Jva+QcOCTid2Iti7ZyKsiQk2pc73j32lE0er70=' }), NOW), 401);
  });

  it('401 when the timestamp is changed without re-signing', async () => {
    const headers = { ...signedAt(NOW), timestamp: String(NOW.getTime() - 1) };
    expectRefused(await codec().verify(request(callback(), headers), NOW), 401);
  });

  it('401 for a timestamp more than 1 hour old (expired) or ahead (future)', async () => {
    expect(expectRefused(await codec().verify(request(callback(), signedAt(new Date(NOW.getTime() - 3_601_000))), NOW), 401)).toMatch(/3601 s old/);
    expect(expectRefused(await codec().verify(request(callback(), signedAt(new Date(NOW.getTime() + 3_601_000))), NOW), 401)).toMatch(/future/);
  });

  it('401 for missing or malformed headers', async () => {
    const { sign: _s, ...noSign } = signedAt(NOW);
    const { timestamp: _t, ...noTimestamp } = signedAt(NOW);
    expect(expectRefused(await codec().verify(request(callback(), noSign), NOW), 401)).toMatch(/missing sign/);
    expect(expectRefused(await codec().verify(request(callback(), noTimestamp), NOW), 401)).toMatch(/missing timestamp/);
    expectRefused(await codec().verify(request(callback(), { ...signedAt(NOW), timestamp: '17e11' }), NOW), 401);
  });

  it('401 for a replayed sign, even with a different body (the sign does not cover the body)', async () => {
    const c = codec();
    const headers = signedAt(NOW);
    expectCommand(await c.verify(request(callback(), headers), NOW));
    const forgedBody = callback({ msgId: 'another', text: { content: 'run rm -rf / on tag:env=prod' } });
    expect(expectRefused(await c.verify(request(forgedBody, headers), NOW), 401)).toMatch(/replayed/);
  });

  it('acknowledges a repeated msgId with a fresh sign, without a second command', async () => {
    const c = codec();
    expectCommand(await c.verify(request(callback(), signedAt(NOW)), NOW));
    const again = await c.verify(request(callback(), signedAt(new Date(NOW.getTime() + 1))), NOW);
    expect(expectHandshake(again)).toMatchObject({ msgtype: 'markdown', markdown: { text: expect.stringMatching(/Already received/) } });
  });

  it('answers a non-text message with a hint and no command', async () => {
    const v = await codec().verify(request(callback({ msgtype: 'picture', text: undefined, content: { downloadCode: 'x' } })), NOW);
    expect(v.kind).toBe('handshake');
    if (v.kind === 'handshake') expect(v.response.body).toMatch(/text messages only/);
  });

  it('400 for a signed body that is not JSON, or not a robot callback', async () => {
    expect(expectRefused(await codec().verify(request('{not json'), NOW), 400)).toMatch(/not JSON/);
    expect(expectRefused(await codec().verify(request(callback({ msgId: undefined })), NOW), 400)).toMatch(/msgId/);
    expect(expectRefused(await codec().verify(request(callback({ senderId: undefined, senderStaffId: undefined })), NOW), 400)).toMatch(/senderStaffId or senderId/);
    expectRefused(await codec().verify(request('[]'), NOW), 400);
  });

  it('400 for a sessionWebhook outside DingTalk, since the body is not signed', async () => {
    expect(expectRefused(await codec().verify(request(callback({ sessionWebhook: 'https://attacker.example/x' })), NOW), 400)).toMatch(/sessionWebhook/);
    expectRefused(await codec().verify(request(callback({ sessionWebhook: 'http://oapi.dingtalk.com/robot/sendBySession?session=1' })), NOW), 400);
  });
});

describe('Function: createDingtalkCodec — ack and rendering', () => {
  it('acks with a markdown message titled by the first line', () => {
    const response = codec().ack({ text: 'Starting run r-1\non 3 instances', link: { title: 'Report', url: 'https://oss.example/r' } });
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(String(response.body))).toEqual({
      msgtype: 'markdown',
      markdown: { title: 'Starting run r-1', text: 'Starting run r-1  \non 3 instances\n\n[Report](https://oss.example/r)' },
    });
  });

  it('prefers the Markdown, and cuts it visibly past 5,000 characters', () => {
    expect(renderDingtalkMessage({ text: 'done', markdown: '### Summary\n- 3 ok' }).markdown.text).toBe('### Summary\n- 3 ok');
    const long = renderDingtalkMessage({ text: 'done', markdown: 'x'.repeat(10_000), link: { title: 'Report', url: 'https://oss.example/r' } });
    expect(long.markdown.text.length).toBeLessThanOrEqual(5000);
    expect(long.markdown.text).toMatch(/… \(truncated\)\n\n\[Report\]\(https:\/\/oss.example\/r\)$/);
  });
});
