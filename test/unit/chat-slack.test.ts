import { describe, it, expect } from 'vitest';
import { createSlackCodec, renderSlackMessage, toSlackMrkdwn } from '../../shared/chat/platforms/slack.ts';
import { MemoryReplayGuard } from '../../shared/chat/codecs.ts';
import { slackHeaders, slackSignature } from '../../shared/chat/sign.ts';
import type { ChatCodec, Verified } from '../../shared/chat/types.ts';
import type { HttpRequest } from '../../shared/runtime/http.ts';
import { chatPost, expectCommand, expectHandshake, expectRefusal, replayGuardAt } from '../support/chat-codec-requests.ts';

const SECRET = 'slack-signing-secret-for-tests-0001';
const NOW = new Date('2026-11-23T10:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const RESPONSE_URL = 'https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN';

function form(overrides: Record<string, string | undefined> = {}): string {
  const fields: Record<string, string | undefined> = {
    token: 'deprecated-verification-token',
    team_id: 'T1DC2JH3J',
    channel_id: 'C024BE91L',
    channel_name: 'ops',
    user_id: 'U2CERLKJA',
    user_name: 'roadrunner',
    command: '/fleetrun',
    text: 'run uptime on tag:env=prod',
    response_url: RESPONSE_URL,
    trigger_id: '398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    ...overrides,
  };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) params.set(k, v);
  return params.toString();
}

function request(body: string, headers: Record<string, string> = slackHeaders(SECRET, body, NOW)): HttpRequest {
  return chatPost('/slack', body, headers);
}

function codec(): ChatCodec {
  return createSlackCodec({ signingSecret: SECRET }, replayGuardAt(NOW));
}

const expectRefused = (v: Verified, status: 400 | 401): string => expectRefusal(v, status, [SECRET]).reason;

describe('Function: createSlackCodec — verify', () => {
  it('accepts a signed slash command and reads who, where, what and where to reply', async () => {
    // Act
    const command = expectCommand(await codec().verify(request(form()), NOW));

    // Assess
    expect(command).toEqual({
      platform: 'slack',
      user: { id: 'U2CERLKJA', name: 'roadrunner' },
      channel: { id: 'C024BE91L', name: 'ops' },
      text: 'run uptime on tag:env=prod',
      replyTo: { platform: 'slack', responseUrl: RESPONSE_URL, channelId: 'C024BE91L' },
      deliveryId: 'slack:398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    });
  });

  it('turns the &amp; &lt; &gt; entities Slack sends back into characters, and trims', async () => {
    const command = expectCommand(await codec().verify(request(form({ text: '  run echo a &gt; b &amp;&amp; cat &lt; c  ' })), NOW));
    expect(command.text).toBe('run echo a > b && cat < c');
  });

  it('accepts a timestamp 4 minutes old or ahead', async () => {
    const c = codec();
    const body = form();
    expectCommand(await c.verify(request(body, slackHeaders(SECRET, body, new Date(NOW.getTime() - 240_000))), NOW));
    const ahead = form({ trigger_id: 'other' });
    expectCommand(await c.verify(request(ahead, slackHeaders(SECRET, ahead, new Date(NOW.getTime() + 240_000))), NOW));
  });

  it('401 for a signature made with another secret', async () => {
    const body = form();
    const reason = expectRefused(await codec().verify(request(body, slackHeaders('another-secret-entirely', body, NOW)), NOW), 401);
    expect(reason).toMatch(/X-Slack-Signature does not match/);
  });

  it('401 for a forged signature and for a body altered after signing', async () => {
    const body = form();
    const headers = slackHeaders(SECRET, body, NOW);
    expectRefused(await codec().verify(request(body, { ...headers, 'x-slack-signature': `v0=${'0'.repeat(64)}` }), NOW), 401);
    expectRefused(await codec().verify(request(body, { ...headers, 'x-slack-signature': 'v0=short' }), NOW), 401);
    expectRefused(await codec().verify(request(form({ text: 'run rm -rf / on tag:env=prod' }), headers), NOW), 401);
  });

  it('401 when the timestamp is changed without re-signing', async () => {
    const body = form();
    const headers = { ...slackHeaders(SECRET, body, NOW), 'x-slack-request-timestamp': String(NOW_S - 1) };
    expect(expectRefused(await codec().verify(request(body, headers), NOW), 401)).toMatch(/does not match/);
  });

  it('401 for a timestamp more than 5 minutes old (expired) or ahead (future)', async () => {
    const body = form();
    const old = expectRefused(await codec().verify(request(body, slackHeaders(SECRET, body, new Date(NOW.getTime() - 301_000))), NOW), 401);
    expect(old).toMatch(/301 s old/);
    const future = expectRefused(await codec().verify(request(body, slackHeaders(SECRET, body, new Date(NOW.getTime() + 301_000))), NOW), 401);
    expect(future).toMatch(/in the future/);
  });

  it('401 for missing or malformed headers', async () => {
    const body = form();
    const headers = slackHeaders(SECRET, body, NOW);
    const { 'x-slack-signature': _s, ...noSignature } = headers;
    const { 'x-slack-request-timestamp': _t, ...noTimestamp } = headers;
    expect(expectRefused(await codec().verify(request(body, noSignature), NOW), 401)).toMatch(/missing X-Slack-Signature/);
    expect(expectRefused(await codec().verify(request(body, noTimestamp), NOW), 401)).toMatch(/missing X-Slack-Request-Timestamp/);
    expect(expectRefused(await codec().verify(request(body, { ...headers, 'x-slack-request-timestamp': '1e9' }), NOW), 401)).toMatch(/not unix seconds/);
    expectRefused(await codec().verify(request(body, { ...headers, 'x-slack-signature': '' }), NOW), 401);
  });

  it('401 for a replay of the exact signed request', async () => {
    const c = codec();
    const req = request(form());
    expectCommand(await c.verify(req, NOW));
    expect(expectRefused(await c.verify(req, new Date(NOW.getTime() + 10_000)), 401)).toMatch(/replayed/);
  });

  it('acknowledges a freshly signed Slack retry of a delivered command without a second command', async () => {
    // Arrange
    const c = codec();
    const body = form();
    expectCommand(await c.verify(request(body), NOW));
    const later = new Date(NOW.getTime() + 3_500);

    // Act
    const retry = await c.verify(request(body, { ...slackHeaders(SECRET, body, later), 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' }), later);

    // Assess
    expect(expectHandshake(retry)).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/Already received \(Slack retry 1\)/) });
  });

  it('issues the command on a retry whose first attempt never arrived', async () => {
    const body = form();
    const command = expectCommand(await codec().verify(request(body, { ...slackHeaders(SECRET, body, NOW), 'x-slack-retry-num': '2' }), NOW));
    expect(command.deliveryId).toMatch(/^slack:398738663015/);
  });

  it('does not record a forged request, so it cannot block the genuine one', async () => {
    const c = codec();
    const body = form();
    expectRefused(await c.verify(request(body, slackHeaders('wrong-secret-wrong', body, NOW)), NOW), 401);
    expectCommand(await c.verify(request(body), NOW));
  });

  it('400 for a signed body that is not a slash command', async () => {
    const missingUser = form({ user_id: undefined });
    expect(expectRefused(await codec().verify(request(missingUser), NOW), 400)).toMatch(/user_id/);
    expectRefused(await codec().verify(request('{"json":"instead"}'), NOW), 400);
    expectRefused(await codec().verify(request(''), NOW), 400);
  });

  it('400 for a response_url that is not Slack’s, and for a GET', async () => {
    expect(expectRefused(await codec().verify(request(form({ response_url: 'https://attacker.example/collect' })), NOW), 400)).toMatch(/response_url/);
    expect(expectRefused(await codec().verify({ ...request(form()), method: 'GET' }, NOW), 400)).toMatch(/expected POST/);
  });

  it('hashes the body for the deliveryId when there is no trigger_id', async () => {
    const command = expectCommand(await codec().verify(request(form({ trigger_id: undefined })), NOW));
    expect(command.deliveryId).toMatch(/^slack:[0-9a-f]{40}$/);
  });

  it('verifies Slack’s documented example request', async () => {
    // The example from Slack's "Verifying requests" page; its own clock is 2018-07-12.
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const c = createSlackCodec({ signingSecret: '8f742231b10e8888abcd99yyyzzz85a5' }, new MemoryReplayGuard());
    const headers = { 'x-slack-request-timestamp': '1531420618', 'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' };
    const command = expectCommand(await c.verify(request(body, headers), new Date(1531420618_000 + 30_000)));
    expect(command).toMatchObject({ text: '', channel: { id: 'G8PSS9T3V', name: 'foobar' } });
  });
});

describe('Function: createSlackCodec — ack and rendering', () => {
  it('acks in_channel JSON with the text', () => {
    const response = codec().ack({ text: 'Starting run r-1 on 3 instances' });
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(String(response.body))).toEqual({ response_type: 'in_channel', text: 'Starting run r-1 on 3 instances' });
  });

  it('escapes &, < and > in text and renders the link Slack’s way', () => {
    const rendered = renderSlackMessage({ text: 'a < b & c > d', link: { title: 'Report', url: 'https://oss.example/r?a=1&b=2' } });
    expect(rendered.text).toBe('a &lt; b &amp; c &gt; d\n<https://oss.example/r?a=1&amp;b=2|Report>');
  });

  it('renders Markdown as mrkdwn sections, leaving code alone', () => {
    expect(toSlackMrkdwn('# Summary\n**3** ok, [report](https://x.example/r)\n`a **b**`')).toBe('*Summary*\n*3* ok, <https://x.example/r|report>\n`a **b**`');
    const rendered = renderSlackMessage({ text: 'Run finished\nmore', markdown: '**done**' });
    expect(rendered).toEqual({ response_type: 'in_channel', text: 'Run finished', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*done*' } }] });
  });

  it('keeps every section within 3,000 characters and cuts long Markdown visibly', () => {
    const markdown = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(20)}`).join('\n');
    const rendered = renderSlackMessage({ text: 'big', markdown, link: { title: 'Report', url: 'https://x.example/r' } });
    expect(rendered.blocks?.length).toBeGreaterThan(1);
    expect(rendered.blocks?.length).toBeLessThanOrEqual(5);
    for (const b of rendered.blocks ?? []) expect(b.text.text.length).toBeLessThanOrEqual(3000);
    const all = (rendered.blocks ?? []).map((b) => b.text.text).join('\n');
    expect(all).toContain('(truncated — the full text is in the report)');
    expect(all).toContain('<https://x.example/r|Report>');
  });

  it('signs the way the codec checks (sign.ts and the codec are separate code)', () => {
    expect(slackSignature(SECRET, NOW_S, 'a=b')).toMatch(/^v0=[0-9a-f]{64}$/);
  });
});
