/**
 * The SIGNING side of every chat scheme: what Slack, DingTalk, Lark and our own webhook clients
 * compute. Used by tests, the local `fleetrun chat` command, `npm start` (to print a ready-signed
 * curl) and the webhook sender. The codecs verify with their own code on purpose: if both sides
 * shared one function, a bug in it would make forged and genuine requests agree.
 */
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

type Bytes = string | Buffer;

/** Slack v0: `v0=` + hex HMAC-SHA256(signingSecret, `v0:${timestamp}:${rawBody}`). */
export function slackSignature(signingSecret: string, timestamp: number | string, rawBody: Bytes): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

/** DingTalk outgoing robot: base64(HMAC-SHA256(appSecret, `${timestampMs}\n${appSecret}`)). Not URL-encoded. */
export function dingtalkSign(appSecret: string, timestampMs: number | string): string {
  return createHmac('sha256', appSecret).update(`${timestampMs}\n${appSecret}`).digest('base64');
}

/** Lark/Feishu event signature: hex sha256(timestamp + nonce + encryptKey + rawBody) — a plain hash, not an HMAC. */
export function larkSignature(encryptKey: string, timestamp: number | string, nonce: string, rawBody: Bytes): string {
  return createHash('sha256').update(`${timestamp}${nonce}${encryptKey}`).update(rawBody).digest('hex');
}

/**
 * Lark/Feishu payload encryption: base64(iv ‖ AES-256-CBC(key = sha256(encryptKey), iv, PKCS#7)).
 * The body Lark sends is then `{"encrypt":"<this>"}`.
 */
export function larkEncrypt(encryptKey: string, plaintext: string, iv: Buffer = randomBytes(16)): string {
  if (iv.length !== 16) throw new Error('the IV must be 16 bytes');
  const key = createHash('sha256').update(encryptKey, 'utf8').digest();
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** fleetrun's own webhook: `v1=` + hex HMAC-SHA256(secret, `${timestamp}.${rawBody}`), timestamp in unix seconds. */
export function webhookSignature(secret: string, timestamp: number | string, rawBody: Bytes): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

const seconds = (now: Date): number => Math.floor(now.getTime() / 1000);

/** Headers of a signed Slack slash-command request (form-encoded body). */
export function slackHeaders(signingSecret: string, rawBody: Bytes, now: Date = new Date()): Record<string, string> {
  const timestamp = seconds(now);
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(signingSecret, timestamp, rawBody),
  };
}

/** Headers of a signed DingTalk outgoing-robot request (the body is not covered by the signature). */
export function dingtalkHeaders(appSecret: string, now: Date = new Date()): Record<string, string> {
  const timestamp = now.getTime();
  return { 'content-type': 'application/json', timestamp: String(timestamp), sign: dingtalkSign(appSecret, timestamp) };
}

/** Headers of a signed Lark event request; `rawBody` is the `{"encrypt":…}` JSON as sent. */
export function larkHeaders(encryptKey: string, rawBody: Bytes, now: Date = new Date(), nonce: string = randomBytes(8).toString('hex')): Record<string, string> {
  const timestamp = seconds(now);
  return {
    'content-type': 'application/json',
    'x-lark-request-timestamp': String(timestamp),
    'x-lark-request-nonce': nonce,
    'x-lark-signature': larkSignature(encryptKey, timestamp, nonce, rawBody),
  };
}

/** Headers of a signed fleetrun webhook request or follow-up. */
export function webhookHeaders(secret: string, rawBody: Bytes, now: Date = new Date()): Record<string, string> {
  const timestamp = seconds(now);
  return {
    'content-type': 'application/json',
    'x-fleetrun-timestamp': String(timestamp),
    'x-fleetrun-signature': webhookSignature(secret, timestamp, rawBody),
  };
}
