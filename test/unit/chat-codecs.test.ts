import { describe, it, expect } from 'vitest';
import { createCodecs, MemoryReplayGuard, platformOf } from '../../shared/chat/codecs.ts';
import { dingtalkHeaders, slackHeaders, webhookHeaders } from '../../shared/chat/sign.ts';
import { NOT_AUTHENTICATED } from '../../shared/chat/platforms/verify-steps.ts';
import { chatPost, replayGuardAt } from '../support/chat-codec-requests.ts';

describe('Function: platformOf', () => {
  it('reads the platform from the last path segment', () => {
    expect(platformOf('/slack')).toBe('slack');
    expect(platformOf('/dingtalk/')).toBe('dingtalk');
    expect(platformOf('/chat/lark')).toBe('lark');
    expect(platformOf('/api/chat/webhook/?x=1')).toBe('webhook');
    expect(platformOf('slack')).toBe('slack');
  });

  it('answers undefined for anything else', () => {
    for (const path of ['/', '', '/teams', '/slack/events', '/Slack', '/slackx', '/slack.json']) expect(platformOf(path)).toBeUndefined();
  });
});

describe('Function: createCodecs', () => {
  it('creates a codec for each configured platform only', () => {
    const codecs = createCodecs({ slack: { signingSecret: 'slack-secret-01' }, webhook: { secret: 'webhook-secret-01' } }, new MemoryReplayGuard());
    expect(Object.keys(codecs).sort()).toEqual(['slack', 'webhook']);
    expect(codecs.slack?.platform).toBe('slack');
  });

  it('refuses configurations that could not authenticate anything', () => {
    const guard = new MemoryReplayGuard();
    expect(() => createCodecs({ slack: { signingSecret: '' } }, guard)).toThrow(/slack.signingSecret/);
    expect(() => createCodecs({ dingtalk: { appSecret: 'short' } }, guard)).toThrow(/dingtalk.appSecret/);
    expect(() => createCodecs({ webhook: { secret: '1234567' } }, guard)).toThrow(/webhook.secret/);
    expect(() => createCodecs({ lark: { appId: 'cli_1', appSecret: 'app-secret-01' } }, guard)).toThrow(/verificationToken or an encryptKey/);
    expect(() => createCodecs({ lark: { verificationToken: 'x' } }, guard)).toThrow(/lark.verificationToken/);
  });

  it('Slack and DingTalk answer every request that does not authenticate alike — missing headers, stale, forged, replayed — and log why', async () => {
    const now = new Date('2026-11-23T10:00:00Z');
    const codecs = createCodecs({ slack: { signingSecret: 'slack-secret-01' }, dingtalk: { appSecret: 'SECdingtalk-01' } }, replayGuardAt(now));
    const slackBody = new URLSearchParams({ command: '/fleetrun', text: 'help', user_id: 'U1', channel_id: 'C1', response_url: 'https://hooks.slack.com/commands/T1/1/a', trigger_id: '1.2' }).toString();
    const dingBody = JSON.stringify({ msgtype: 'text', text: { content: 'help' }, msgId: 'm1', senderStaffId: 's1', conversationId: 'c1', sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=1' });
    const cases = {
      slack: { body: slackBody, signed: slackHeaders('slack-secret-01', slackBody, now), forged: slackHeaders('another-secret-99', slackBody, now), stale: slackHeaders('slack-secret-01', slackBody, new Date(now.getTime() - 600_000)) },
      dingtalk: { body: dingBody, signed: dingtalkHeaders('SECdingtalk-01', now), forged: dingtalkHeaders('another-secret-99', now), stale: dingtalkHeaders('SECdingtalk-01', new Date(now.getTime() - 7_200_000)) },
    };
    for (const [platform, c] of Object.entries(cases) as [keyof typeof cases, (typeof cases)[keyof typeof cases]][]) {
      const codec = codecs[platform]!;
      const verify = (headers: Record<string, string>) => codec.verify(chatPost(`/${platform}`, c.body, headers), now);
      expect((await verify(c.signed)).kind, platform).toBe('command');
      const refusals = [await verify({}), await verify(c.forged), await verify(c.stale), await verify(c.signed)];
      const reasons = refusals.map((v) => (v.kind === 'refused' ? v.reason : v.kind));
      expect(new Set(reasons).size, `${platform}: ${reasons.join(' | ')}`).toBe(4);
      const answers = refusals.map((v) => (v.kind === 'refused' ? codec.refuse!(v) : undefined));
      expect(answers.every((a) => a?.statusCode === 401), platform).toBe(true);
      expect(new Set(answers.map((a) => a?.body)), platform).toEqual(new Set([JSON.stringify({ error: NOT_AUTHENTICATED })]));
    }
  });

  it('codecs share one guard yet cannot block each other: keys are namespaced per platform', async () => {
    // Arrange: the same raw signature string can never be presented twice across platforms, but
    // delivery ids are client-chosen on the webhook; a webhook id equal to a DingTalk msgId must not block DingTalk.
    const now = new Date('2026-11-23T10:00:00Z');
    const guard = replayGuardAt(now);
    const codecs = createCodecs({ dingtalk: { appSecret: 'SECdingtalk-01' }, webhook: { secret: 'webhook-secret-01' } }, guard);
    const webhookBody = JSON.stringify({ user: 'mallory', text: 'x', id: 'dingtalk:msg-1' });
    const dingBody = JSON.stringify({
      msgtype: 'text',
      text: { content: 'status' },
      msgId: 'msg-1',
      senderStaffId: 's1',
      conversationId: 'c1',
      sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=1',
    });

    // Act
    const w = await codecs.webhook?.verify(chatPost('/webhook', webhookBody, webhookHeaders('webhook-secret-01', webhookBody, now)), now);
    const d = await codecs.dingtalk?.verify(chatPost('/dingtalk', dingBody, dingtalkHeaders('SECdingtalk-01', now)), now);

    // Assess
    expect(w?.kind).toBe('command');
    expect(d?.kind).toBe('command');
  });

  it('one guard, two platforms: Slack still refuses its own replay', async () => {
    const now = new Date('2026-11-23T10:00:00Z');
    const codecs = createCodecs({ slack: { signingSecret: 'slack-secret-01' } }, replayGuardAt(now));
    const body = 'command=%2Ff&text=status&user_id=U1&channel_id=C1&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1&trigger_id=t1';
    const req = chatPost('/slack', body, slackHeaders('slack-secret-01', body, now));
    expect((await codecs.slack?.verify(req, now))?.kind).toBe('command');
    expect(await codecs.slack?.verify(req, now)).toMatchObject({ kind: 'refused', status: 401 });
  });
});

describe('Class: MemoryReplayGuard', () => {
  it('says true once per id within the TTL, and again after it', async () => {
    let now = 1_000_000;
    const guard = new MemoryReplayGuard(() => now);
    expect(await guard.firstSeen('a', 60)).toBe(true);
    expect(await guard.firstSeen('a', 60)).toBe(false);
    expect(await guard.firstSeen('b', 60)).toBe(true);
    now += 59_999;
    expect(await guard.firstSeen('a', 60)).toBe(false);
    now += 1;
    expect(await guard.firstSeen('a', 60)).toBe(true);
  });

  it('holds at most maxEntries ids, forgetting the oldest first', async () => {
    const guard = new MemoryReplayGuard(() => 0, 3);
    for (const id of ['a', 'b', 'c', 'd']) expect(await guard.firstSeen(id, 60)).toBe(true);
    expect(guard.size).toBe(3);
    expect(await guard.firstSeen('d', 60)).toBe(false);
    expect(await guard.firstSeen('a', 60)).toBe(true);
  });

  it('sweeps expired ids so memory does not grow with traffic', async () => {
    let now = 0;
    const guard = new MemoryReplayGuard(() => now);
    for (let i = 0; i < 999; i++) await guard.firstSeen(`old-${i}`, 1);
    now = 2_000;
    await guard.firstSeen('new', 1);
    expect(guard.size).toBe(1);
  });
});
