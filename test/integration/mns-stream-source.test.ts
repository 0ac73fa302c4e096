/**
 * The local EventBridge's MNS event-streaming source against the local MNS: a push carries up to
 * CountBasedWindow messages — more than one receive's 16 — and all of them are deleted once the
 * target returned, in deletes of at most 16 (MNS's limit for BatchDeleteMessage); a push that would
 * pass the invocation body limit goes in parts; with an event-streaming delay, no message is handed
 * on before its time since it was sent; a receive that fails while a window fills (MNS restarting)
 * loses nothing the source already took.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import MNSClient from '@alicloud/mns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MnsStreamSource } from '../../local/eventbridge/mns-source.ts';
import { startMnsEmulator, type MnsEmulator } from '../../local/mns/server.ts';

let mns: MnsEmulator;
let dataDir: string;
let client: MNSClient;

async function left(queue: string): Promise<number> {
  const a = await mns.store.getQueueAttributes(queue);
  return a.activeMessages + a.inactiveMessages + a.delayMessages;
}

function source(queueName: string, target: (events: unknown[]) => Promise<unknown>, more: Partial<ConstructorParameters<typeof MnsStreamSource>[0]> = {}): MnsStreamSource {
  return new MnsStreamSource({
    client,
    queueName,
    sourceName: `MNS-test-${queueName}`,
    region: 'cn-hangzhou',
    accountId: mns.accountId,
    countWindow: 100,
    timeWindowSeconds: 0,
    base64Decode: true,
    maxRetryAttempts: 3,
    target,
    log: () => {},
    ...more,
  });
}

async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

const bodyOf = (e: unknown) => (e as { data: { messageBody: string } }).data.messageBody;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-mns-source-'));
  mns = await startMnsEmulator({ accessKeys: { src: 'source-secret-value' }, dataDir });
  client = new MNSClient(mns.accountId, { accessKeyId: 'src', accessKeySecret: 'source-secret-value', endpoint: mns.endpoint });
  await client.createQueue('pushes', {});
  await client.createQueue('split', {});
  await client.createQueue('delayed', {});
  // Long enough that a message the source dropped could not come back while a test waits for it.
  await client.createQueue('restarted', { VisibilityTimeout: 120 });
});
afterAll(async () => {
  await mns.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('Class: MnsStreamSource', () => {
  it('pushes 40 queued messages at once with a window of 100, and deletes every one of them', async () => {
    for (let n = 0; n < 40; n++) await client.sendMessage('pushes', { MessageBody: Buffer.from(`m${n}`).toString('base64') });
    const pushes: string[][] = [];
    const logged: string[] = [];
    const src = source('pushes', async (events) => void pushes.push(events.map(bodyOf)), { log: (l) => logged.push(l) });
    src.start();
    await until(() => pushes.flat().length >= 40);
    await src.stop();
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.sort()).toEqual(Array.from({ length: 40 }, (_, n) => `m${n}`).sort());
    expect(logged.filter((l) => l.includes('delete'))).toEqual([]);
    expect((await mns.store.getQueueAttributes('pushes')).activeMessages + (await mns.store.getQueueAttributes('pushes')).inactiveMessages).toBe(0);
  });

  it('sends a push that would pass the body limit in parts that fit, every message once, all deleted', async () => {
    for (let n = 0; n < 10; n++) await client.sendMessage('split', { MessageBody: Buffer.from(`${n}`.padEnd(1000, '.')).toString('base64') });
    const pushes: { bodies: string[]; bytes: number }[] = [];
    const src = source('split', async (events) => void pushes.push({ bodies: events.map(bodyOf), bytes: Buffer.byteLength(JSON.stringify(events)) }), { maxBodyBytes: 4096 });
    src.start();
    await until(() => pushes.flatMap((p) => p.bodies).length >= 10);
    await src.stop();
    expect(pushes.length).toBeGreaterThan(1);
    for (const p of pushes) expect(p.bytes).toBeLessThanOrEqual(4096);
    expect(pushes.flatMap((p) => p.bodies.map((b) => b[0])).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(await left('split')).toBe(0);
  });

  it('with an event-streaming delay, hands no message on before that long after it was sent', async () => {
    const sentFrom = Date.now();
    for (let n = 0; n < 3; n++) await client.sendMessage('delayed', { MessageBody: Buffer.from(`d${n}`).toString('base64') });
    const arrivals: { body: string; at: number }[] = [];
    const src = source('delayed', async (events) => void arrivals.push(...events.map((e) => ({ body: bodyOf(e), at: Date.now() }))), { delay: () => 1500 });
    src.start();
    await until(() => arrivals.length >= 3);
    await src.stop();
    expect(arrivals.map((a) => a.body).sort()).toEqual(['d0', 'd1', 'd2']);
    // Received at once, held back by the source: a lower bound only (the machine may be slower).
    for (const a of arrivals) expect(a.at - sentFrom).toBeGreaterThanOrEqual(1500);
    expect(await left('delayed')).toBe(0);
  });

  it('keeps what it received when a later receive fails: MNS restarted while a window fills, the held messages go out once, not after their visibility timeout', async () => {
    for (let n = 0; n < 3; n++) await client.sendMessage('restarted', { MessageBody: Buffer.from(`r${n}`).toString('base64') });
    const pushes: string[][] = [];
    const logged: string[] = [];
    const src = source('restarted', async (events) => void pushes.push(events.map(bodyOf)), { timeWindowSeconds: 5, log: (l) => logged.push(l) });
    src.start();
    // Received (in flight, invisible for 120 s) and held while the 5 s window fills.
    let inFlight = 0;
    const deadline = Date.now() + 10_000;
    while (inFlight < 3 && Date.now() < deadline) {
      inFlight = (await mns.store.getQueueAttributes('restarted')).inactiveMessages;
      if (inFlight < 3) await new Promise((r) => setTimeout(r, 20));
    }
    expect(inFlight).toBe(3);
    expect(pushes).toEqual([]);

    // MNS goes away under the window's next receive, and comes back.
    await mns.restart(async () => {
      await until(() => logged.some((l) => l.includes('receive:')));
    });
    await until(() => pushes.flat().length >= 3);
    await src.stop();

    expect(logged.some((l) => l.includes('receive:'))).toBe(true);
    expect(pushes.flat().sort()).toEqual(['r0', 'r1', 'r2']);
    expect(await left('restarted')).toBe(0);
  });
});
