import { createDecipheriv, createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { dingtalkSign, larkEncrypt, larkSignature, slackSignature, webhookSignature, webhookHeaders } from '../../shared/chat/sign.ts';

// Known vectors: Slack's from its documentation, Lark's encryption from its documentation, the
// others computed outside Node with openssl / sha256sum (commands beside each), so these tests do
// not check the code against itself.

describe('Function: slackSignature', () => {
  it('matches Slack’s documented example', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', Buffer.from(body))).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });
});

describe('Function: dingtalkSign', () => {
  it('matches a hand-computed vector', () => {
    // printf '1700000000000\nSECdingtalk-test-secret-0001' | openssl dgst -sha256 -hmac 'SECdingtalk-test-secret-0001' -binary | base64
    expect(dingtalkSign('SECdingtalk-test-secret-0001', 1700000000000)).toBe('ROvr+Jva+QcOCTid2Iti7ZyKsiQk2pc73j32lE0er70=');
  });
});

describe('Function: larkSignature', () => {
  it('matches a hand-computed vector (a plain SHA-256, not an HMAC)', () => {
    // printf '%s' '1700000000nonce-4f2aencrypt-key-test-0001{"encrypt":"abc"}' | sha256sum
    expect(larkSignature('encrypt-key-test-0001', 1700000000, 'nonce-4f2a', '{"encrypt":"abc"}')).toBe('d4d4ce79cb8ae9650a340a4a030cb403a55b200c11d0208731b96e38358427d2');
  });
});

describe('Function: larkEncrypt', () => {
  it('reproduces Lark’s documented vector given its IV', () => {
    const documented = 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=';
    const iv = Buffer.from(documented, 'base64').subarray(0, 16);
    expect(larkEncrypt('test key', 'hello world', iv)).toBe(documented);
  });

  it('uses a fresh IV each time and decrypts with sha256(key)', () => {
    const a = larkEncrypt('k-0001', 'same text');
    const b = larkEncrypt('k-0001', 'same text');
    expect(a).not.toBe(b);
    const raw = Buffer.from(a, 'base64');
    const decipher = createDecipheriv('aes-256-cbc', createHash('sha256').update('k-0001').digest(), raw.subarray(0, 16));
    expect(Buffer.concat([decipher.update(raw.subarray(16)), decipher.final()]).toString()).toBe('same text');
    expect(() => larkEncrypt('k', 'x', Buffer.alloc(8))).toThrow(/16 bytes/);
  });
});

describe('Function: webhookSignature', () => {
  it('matches a hand-computed vector', () => {
    // printf '%s' '1700000000.{"user":"u-1","text":"run uptime on web"}' | openssl dgst -sha256 -hmac 'webhook-test-secret-0001'
    expect(webhookSignature('webhook-test-secret-0001', 1700000000, '{"user":"u-1","text":"run uptime on web"}')).toBe(
      'v1=3eaaea4c36659785c6e86b8004b159f3e047063a483cd26f86b63c35ddb5e783',
    );
  });

  it('webhookHeaders carries unix seconds and the matching signature', () => {
    const headers = webhookHeaders('webhook-test-secret-0001', '{"user":"u-1","text":"run uptime on web"}', new Date(1700000000_999));
    expect(headers).toEqual({
      'content-type': 'application/json',
      'x-fleetrun-timestamp': '1700000000',
      'x-fleetrun-signature': 'v1=3eaaea4c36659785c6e86b8004b159f3e047063a483cd26f86b63c35ddb5e783',
    });
  });
});
