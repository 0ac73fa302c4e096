/**
 * The local EventBridge's MNS event-streaming source against the local MNS: a push carries up to
 * CountBasedWindow messages — more than one receive's 16 — and all of them are deleted once the
 * target returned, in deletes of at most 16 (MNS's limit for BatchDeleteMessage).
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

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-mns-source-'));
  mns = await startMnsEmulator({ accessKeys: { src: 'source-secret-value' }, dataDir });
  client = new MNSClient(mns.accountId, { accessKeyId: 'src', accessKeySecret: 'source-secret-value', endpoint: mns.endpoint });
  await client.createQueue('pushes', {});
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
    const source = new MnsStreamSource({
      client,
      queueName: 'pushes',
      sourceName: 'MNS-test-pushes',
      region: 'cn-hangzhou',
      accountId: mns.accountId,
      countWindow: 100,
      timeWindowSeconds: 0,
      base64Decode: true,
      maxRetryAttempts: 3,
      target: async (events) => void pushes.push(events.map((e) => (e as { data: { messageBody: string } }).data.messageBody)),
      log: (l) => logged.push(l),
    });
    source.start();
    const until = Date.now() + 10_000;
    while (pushes.flat().length < 40 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await source.stop();
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.sort()).toEqual(Array.from({ length: 40 }, (_, n) => `m${n}`).sort());
    expect(logged.filter((l) => l.includes('delete'))).toEqual([]);
    expect((await mns.store.getQueueAttributes('pushes')).activeMessages + (await mns.store.getQueueAttributes('pushes')).inactiveMessages).toBe(0);
  });
});
