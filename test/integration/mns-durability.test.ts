/**
 * Durability of the local MNS: what was acknowledged survives a restart on the same data folder —
 * a clean one and a SIGKILL — including the invisibility and dequeue count of messages that were
 * received but not deleted, which come back when their visibility timeout ends. Also: the log is
 * compacted, a torn last line is tolerated, and two emulators cannot share one folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import MNS from '@alicloud/mns';
import { startMnsEmulator } from '../../local/mns/server.ts';
import { ACCOUNT_ID, AK, SK, b64, expectMnsError, makeTempDir, sleep, startTestBed, unb64, type MnsTestBed } from './mns-support.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

let bed: MnsTestBed | undefined;
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  await bed?.close();
  bed = undefined;
});

const logFile = (dataDir: string, queue: string): string => path.join(dataDir, 'queues', queue, 'log.jsonl');

describe('restart on the same data folder', () => {
  it('restart() keeps the endpoint: a client made before it finds every message, a received one with its handle still valid', async () => {
    bed = await startTestBed({ queues: [{ name: 'kept', attributes: { VisibilityTimeout: 30 } }] });
    const c = bed.client;
    const { endpoint } = bed.emulator;
    await c.sendMessage('kept', { MessageBody: b64('waiting') });
    const received = (await c.receiveMessage('kept')).body;
    await c.sendMessage('kept', { MessageBody: b64('queued') });
    let whileDown: unknown;
    await bed.emulator.restart(async () => {
      expect(bed!.emulator.up).toBe(false);
      whileDown = await c.sendMessage('kept', { MessageBody: b64('refused') }).catch((e: unknown) => e);
    });
    expect(whileDown).toBeInstanceOf(Error);
    expect([bed.emulator.up, bed.emulator.endpoint]).toEqual([true, endpoint]);
    expect(unb64((await c.receiveMessage('kept')).body.MessageBody!)).toBe('queued');
    await c.deleteMessage('kept', received.ReceiptHandle!);
    expect(await bed.emulator.store.getQueueAttributes('kept')).toMatchObject({ activeMessages: 0, inactiveMessages: 1 });
  });

  it('keeps queues, attributes and every message with its state', async () => {
    bed = await startTestBed({ queues: [{ name: 'durable', attributes: { VisibilityTimeout: 2 } }] });
    const c = bed.client;
    await c.createQueue('other', { MaximumMessageSize: 2048 });
    await c.createQueue('doomed');
    await c.sendMessage('durable', { MessageBody: b64('a') });
    await c.sendMessage('durable', { MessageBody: b64('b'), Priority: 1 });
    await c.sendMessage('durable', { MessageBody: b64('c'), DelaySeconds: 60 });
    await c.batchSendMessage('durable', [{ MessageBody: b64('d') }, { MessageBody: b64('e') }]);
    const inFlight = (await c.receiveMessage('durable')).body;
    expect(unb64(inFlight.MessageBody!)).toBe('b');
    const done = (await c.receiveMessage('durable')).body;
    expect(unb64(done.MessageBody!)).toBe('a');
    await c.deleteMessage('durable', done.ReceiptHandle!);
    await c.deleteQueue('doomed');

    await bed.restart();
    const c2 = bed.client;
    expect((await c2.listQueue()).body!.map((q) => q.QueueURL!.split('/').pop())).toEqual(['durable', 'other']);
    expect((await c2.getQueueAttributes('other')).body.MaximumMessageSize).toBe('2048');
    expect((await c2.getQueueAttributes('durable')).body).toMatchObject({
      VisibilityTimeout: '2',
      ActiveMessages: '2',
      InactiveMessages: '1',
      DelayMessages: '1',
    });
    // Still invisible right after the restart: d and e come first, in enqueue order.
    expect(unb64((await c2.receiveMessage('durable')).body.MessageBody!)).toBe('d');
    expect(unb64((await c2.receiveMessage('durable')).body.MessageBody!)).toBe('e');
    // The in-flight message returns once its visibility timeout (counted from before the restart) ends.
    const back = (await c2.receiveMessage('durable', 5)).body;
    expect(back.MessageId).toBe(inFlight.MessageId);
    expect(back.DequeueCount).toBe('2');
    expect(back.FirstDequeueTime).toBe(inFlight.FirstDequeueTime);
    expect(back.EnqueueTime).toBe(inFlight.EnqueueTime);
    await c2.deleteMessage('durable', back.ReceiptHandle!);

    await bed.restart();
    expect((await bed.client.getQueueAttributes('durable')).body).toMatchObject({ DelayMessages: '1' });
    // d and e were received but not deleted: inactive, or active again if the restart outlasted their
    // 2 s visibility timeout (a loaded machine) — never lost.
    const info = await bed.emulator.store.getQueueAttributes('durable');
    expect(info.activeMessages + info.inactiveMessages).toBe(2);
  });

  it('keeps receipt handles valid across a restart while the message is invisible', async () => {
    bed = await startTestBed({ queues: [{ name: 'handles', attributes: { VisibilityTimeout: 60 } }] });
    await bed.client.sendMessage('handles', { MessageBody: b64('h') });
    const m = (await bed.client.receiveMessage('handles')).body;
    const changed = (await bed.client.changeMessageVisibility('handles', m.ReceiptHandle!, 120)).body;
    await bed.restart();
    await expectMnsError(bed.client.deleteMessage('handles', m.ReceiptHandle!), 'ReceiptHandleError');
    expect((await bed.client.deleteMessage('handles', changed.ReceiptHandle!)).code).toBe(204);
    await bed.restart();
    expect((await bed.client.getQueueAttributes('handles')).body).toMatchObject({ ActiveMessages: '0', InactiveMessages: '0' });
  });

  it('acknowledges a send only once its record is in the log file', async () => {
    bed = await startTestBed({ queues: [{ name: 'acked' }] });
    const sent = (await bed.client.sendMessage('acked', { MessageBody: b64('on disk') })).body;
    // Read right after the 201, without closing anything.
    expect(await readFile(logFile(bed.dataDir, 'acked'), 'utf8')).toContain(sent.MessageId);
    const received = (await bed.client.receiveMessage('acked')).body;
    expect(await readFile(logFile(bed.dataDir, 'acked'), 'utf8')).toContain(received.ReceiptHandle);
  });
});

describe('crash', () => {
  it('loses nothing acknowledged when the process is SIGKILLed', async () => {
    const dataDir = await makeTempDir();
    try {
      child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'mns-crash-child.ts'), dataDir, AK, SK], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child!.stdout! }).once('line', resolve);
        child!.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      const { endpoint } = JSON.parse(first) as { endpoint: string };
      const c = new MNS(ACCOUNT_ID, { accessKeyId: AK, accessKeySecret: SK, endpoint });
      await c.batchSendMessage('crashy', [1, 2, 3, 4].map((i) => ({ MessageBody: b64(`k${i}`) })));
      const inFlight = (await c.receiveMessage('crashy')).body;
      const deleted = (await c.receiveMessage('crashy')).body;
      await c.deleteMessage('crashy', deleted.ReceiptHandle!);
      await c.setQueueAttributes('crashy', { PollingWaitSeconds: 1 });

      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));

      // The dead process's lock is recognised as stale.
      const lines: string[] = [];
      const emulator = await startMnsEmulator({ accessKeys: { [AK]: SK }, dataDir, log: (l) => lines.push(l) });
      try {
        const c2 = new MNS(ACCOUNT_ID, { accessKeyId: AK, accessKeySecret: SK, endpoint: emulator.endpoint });
        const attrs = (await c2.getQueueAttributes('crashy')).body;
        expect(attrs).toMatchObject({ VisibilityTimeout: '2', PollingWaitSeconds: '1', ActiveMessages: '2', InactiveMessages: '1' });
        const rest = (await c2.batchReceiveMessage('crashy', 16)).body;
        expect(rest.map((m) => unb64(m.MessageBody!))).toEqual(['k3', 'k4']);
        const back = (await c2.receiveMessage('crashy', 5)).body;
        expect(back.MessageId).toBe(inFlight.MessageId);
        expect(back.DequeueCount).toBe('2');
      } finally {
        await emulator.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('log maintenance', () => {
  it('tolerates a torn last line and keeps appending cleanly after it', async () => {
    bed = await startTestBed({ queues: [{ name: 'torn' }] });
    await bed.client.batchSendMessage('torn', [{ MessageBody: b64('one') }, { MessageBody: b64('two') }]);
    await bed.emulator.close();
    await appendFile(logFile(bed.dataDir, 'torn'), '{"op":"put","id":"ABC","bo');
    await bed.restart();
    expect(bed.lines.some((l) => l.includes('torn: ignored 1 unreadable log line'))).toBe(true);
    await bed.client.sendMessage('torn', { MessageBody: b64('three') });
    await bed.restart();
    const all = (await bed.client.batchReceiveMessage('torn', 16)).body;
    expect(all.map((m) => unb64(m.MessageBody!))).toEqual(['one', 'two', 'three']);
  });

  it('compacts the log as messages are deleted, without losing the live ones', async () => {
    bed = await startTestBed({ queues: [{ name: 'busy', attributes: { VisibilityTimeout: 60 } }] });
    const store = bed.emulator.store;
    const keep = await store.sendMessages('busy', [1, 2, 3].map((i) => ({ body: `keep-${i}`, priority: 16 })));
    for (let i = 0; i < 75; i++) {
      await store.sendMessages('busy', Array.from({ length: 16 }, (_, k) => ({ body: `m-${i}-${k}`, priority: 1 })));
    }
    for (;;) {
      const got = await store.receiveMessages('busy', { max: 16, waitMs: 0 });
      const work = got.filter((m) => m.body.startsWith('m-'));
      if (work.length === 0) break;
      expect(await store.deleteMessages('busy', work.map((m) => m.receiptHandle))).toEqual([]);
    }
    // 1203 puts + 1203 receives + 1200 deletes were written; compaction keeps the file near the live state.
    const lines = (await readFile(logFile(bed.dataDir, 'busy'), 'utf8')).split('\n').filter(Boolean);
    expect(lines.length).toBeLessThan(1000);
    await bed.restart();
    const info = await bed.emulator.store.getQueueAttributes('busy');
    expect(info.inactiveMessages).toBe(3);
    expect(info.activeMessages + info.delayMessages).toBe(0);
    const peeked = await bed.emulator.store.peekMessages('busy', 16);
    expect(peeked).toEqual([]);
    expect(keep.map((k) => k.messageId).sort()).toEqual(
      (await readFile(logFile(bed.dataDir, 'busy'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { id: string }).id)
        .sort(),
    );
  });

  it('drops a queue folder whose creation never finished, but refuses to start over a damaged one', async () => {
    bed = await startTestBed({ queues: [{ name: 'fine' }] });
    await bed.client.sendMessage('fine', { MessageBody: b64('kept') });
    await bed.emulator.close();
    await mkdir(path.join(bed.dataDir, 'queues', 'half-made'));
    await bed.restart();
    expect(bed.lines.some((l) => l.includes('half-made') && l.includes('never completed'))).toBe(true);
    expect(bed.emulator.store.listQueues().names).toEqual(['fine']);

    await bed.emulator.close();
    await writeFile(path.join(bed.dataDir, 'queues', 'fine', 'meta.json'), '{"v":1,');
    await expect(startMnsEmulator({ accessKeys: { [AK]: SK }, dataDir: bed.dataDir })).rejects.toThrow(/meta\.json is damaged/);
    // Nothing was deleted: the messages are still there to be rescued.
    expect(await readFile(logFile(bed.dataDir, 'fine'), 'utf8')).toContain(b64('kept'));
    await writeFile(path.join(bed.dataDir, 'queues', 'fine', 'meta.json'), JSON.stringify({ v: 1, name: 'fine', attributes: {}, createTime: 1, lastModifyTime: 1 }));
    await bed.restart();
    expect(unb64((await bed.client.receiveMessage('fine')).body.MessageBody!)).toBe('kept');
  });

  it('refuses a second emulator on a data folder that is in use', async () => {
    bed = await startTestBed();
    await expect(startMnsEmulator({ accessKeys: { [AK]: SK }, dataDir: bed.dataDir })).rejects.toThrow(/already open/);
    await bed.restart();
    expect((await bed.client.createQueue('after-restart')).code).toBe(201);
  });
});

describe('deleted state stays deleted', () => {
  it('does not bring back deleted messages or queues', async () => {
    bed = await startTestBed({ queues: [{ name: 'q' }] });
    await bed.client.batchSendMessage('q', [{ MessageBody: b64('x') }, { MessageBody: b64('y') }]);
    const got = (await bed.client.batchReceiveMessage('q', 2)).body;
    expect((await bed.client.batchDeleteMessage('q', got.map((m) => m.ReceiptHandle!))).code).toBe(204);
    await bed.client.createQueue('gone');
    await bed.client.sendMessage('gone', { MessageBody: b64('z') });
    await bed.client.deleteQueue('gone');
    await bed.restart();
    await sleep(10);
    expect((await bed.client.getQueueAttributes('q')).body).toMatchObject({ ActiveMessages: '0', InactiveMessages: '0' });
    await expectMnsError(bed.client.getQueueAttributes('gone'), 'QueueNotExist');
    await bed.client.createQueue('gone');
    await expectMnsError(bed.client.receiveMessage('gone'), 'MessageNotExist');
  });
});
