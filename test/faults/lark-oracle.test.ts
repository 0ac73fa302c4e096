/**
 * Issue 14, item 1: the Lark codec as a decryption oracle. With an encrypt key, a body is
 * `{"encrypt": base64(iv ‖ AES-256-CBC)}`; CBC carries no integrity, so a server that decrypts an
 * unauthenticated body and answers bad padding differently from good padding lets anyone recover
 * plaintext without the key: take two consecutive ciphertext blocks of a captured body, vary the
 * last byte of the first (used as the IV), and the one answer that differs says which value gave
 * the padding byte 0x01 — one plaintext byte per ≤ 256 requests (4,962 requests gave 32 bytes).
 *
 * Here the oracle's first step is sent to the deployed chatops function over its HTTP trigger on
 * the local cloud, as the attack was: all 256 last-byte values of the IV, once unsigned and once
 * with a signature made without the key. Every answer must be the same — status, content type and
 * body — so none says anything about the padding, the decryption or the JSON behind it.
 */
import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { larkEncrypt, larkHeaders } from '../../shared/chat/sign.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { startPipelineCloud, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

const FLEET = `instances:
  - { id: i-bp1oracle000001, name: web-1, tags: { env: demo } }
`;

/** A message event as Lark sends it, encrypted with the deployment's key: what an eavesdropper captured. */
function capturedBody(): string {
  const now = Date.now();
  const event = {
    schema: '2.0',
    header: { event_id: randomBytes(16).toString('hex'), create_time: String(now), event_type: 'im.message.receive_v1', tenant_key: 't1', app_id: 'cli_demo' },
    event: {
      sender: { sender_id: { open_id: 'ou_demo_user' }, sender_type: 'user' },
      message: { message_id: 'om_1', chat_id: 'oc_1', chat_type: 'group', message_type: 'text', content: JSON.stringify({ text: 'run uptime on env=demo with token=Pa55w0rd-oracle' }) },
    },
  };
  return JSON.stringify({ encrypt: larkEncrypt(DEMO_CHAT.FLEETRUN_LARK_ENCRYPT_KEY, JSON.stringify(event)) });
}

/**
 * The oracle's probes for the captured body's last block: `previous block with its last byte
 * replaced by b` as the IV, then the last block, for every b — exactly one b (at least) decrypts to
 * valid PKCS#7 padding.
 */
function lastBlockProbes(body: string): string[] {
  const raw = Buffer.from((JSON.parse(body) as { encrypt: string }).encrypt, 'base64');
  const blocks = raw.length / 16;
  const previous = raw.subarray((blocks - 2) * 16, (blocks - 1) * 16);
  const last = raw.subarray((blocks - 1) * 16);
  return Array.from({ length: 256 }, (_, b) => {
    const iv = Buffer.from(previous);
    iv[15] = b;
    return JSON.stringify({ encrypt: Buffer.concat([iv, last]).toString('base64') });
  });
}

/** Whether the body's PKCS#7 padding holds under the deployment's key: what a padding oracle leaks. */
function opensWithDemoKey(body: string): boolean {
  const raw = Buffer.from((JSON.parse(body) as { encrypt: string }).encrypt, 'base64');
  const key = createHash('sha256').update(DEMO_CHAT.FLEETRUN_LARK_ENCRYPT_KEY).digest();
  const decipher = createDecipheriv('aes-256-cbc', key, raw.subarray(0, 16));
  try {
    decipher.update(raw.subarray(16));
    decipher.final();
    return true;
  } catch {
    return false;
  }
}

let pc: PipelineCloud;
let larkUrl: string;

beforeAll(async () => {
  pc = await startPipelineCloud(FLEET);
  larkUrl = `${pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!}/lark`;
}, 60_000);

afterAll(async () => {
  await pc?.close();
});

async function answer(body: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(larkUrl, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return JSON.stringify({ status: res.status, type: res.headers.get('content-type'), body: await res.text() });
}

describe('Lark with an encrypt key: no answer tells good padding from bad', () => {
  it('answers every IV-byte probe of a captured body identically, unsigned or with a forged signature', async () => {
    const probes = lastBlockProbes(capturedBody());
    // The probes hold what the oracle looks for: at least one decrypts to valid padding, most do not.
    const validPadding = probes.filter((body) => opensWithDemoKey(body)).length;
    expect(validPadding).toBeGreaterThanOrEqual(1);
    expect(validPadding).toBeLessThan(16);
    const answers = new Map<string, number>();
    for (const body of probes) {
      // Unsigned: only Lark's URL-verification challenge may come so, and it is encrypted.
      const unsigned = await answer(body, {});
      // Signed without the key: the timestamp and nonce are right, the signature is not.
      const forged = await answer(body, larkHeaders('not-the-encrypt-key-0001', body));
      for (const a of [unsigned, forged]) answers.set(a, (answers.get(a) ?? 0) + 1);
    }
    expect([...answers.keys()], 'distinct answers to the 512 probes').toHaveLength(1);
    const [only] = [...answers.keys()].map((a) => JSON.parse(a) as { status: number; body: string });
    expect(only!.status).toBe(401);
    expect(only!.body).not.toMatch(/decrypt|JSON|padding|encrypt|signature/i);
  }, 120_000);

  it('answers a malformed encrypt value, a body that is not JSON and a missing body the same way, unsigned', async () => {
    const answers = new Set([
      await answer(JSON.stringify({ encrypt: 'not base64 at all' }), {}),
      await answer(JSON.stringify({ encrypt: Buffer.alloc(40, 1).toString('base64') }), {}),
      await answer('{"encrypt":', {}),
      await answer('', {}),
      await answer(lastBlockProbes(capturedBody())[0]!, {}),
    ]);
    expect([...answers]).toHaveLength(1);
  });

  it('still answers the encrypted URL-verification challenge Lark sends unsigned (the setup step)', async () => {
    const body = JSON.stringify({ encrypt: larkEncrypt(DEMO_CHAT.FLEETRUN_LARK_ENCRYPT_KEY, JSON.stringify({ challenge: 'oracle-challenge', type: 'url_verification' })) });
    const res = await fetch(larkUrl, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'oracle-challenge' });
  });
});
