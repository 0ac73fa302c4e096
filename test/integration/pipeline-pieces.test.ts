/**
 * The pipeline's pieces against the local OSS, MNS and FC host: task-events refusing what is not
 * its input, two summarizers folding one run at once, the queue's packing and batching within
 * MNS's limits, and a queue trigger's dead-letter queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import MNSClient from '@alicloud/mns';
import { handleResultMessages, resultMessagesEnvelope } from '../../shared/pipeline/summarize.ts';
import { NO_CHAT } from '../../shared/pipeline/finish-run.ts';
import { decodeResultBatch } from '../../shared/pipeline/result-batch.ts';
import { encodeResult } from '../../shared/pipeline/result-message.ts';
import { MnsResultQueue } from '../../shared/queue/mns-queue.ts';
import { packBatches } from '../../shared/queue/port.ts';
import { packResultMessages, resultJson } from '../../shared/queue/result-packing.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { fleetOf, startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

let pc: PipelineCloud;
beforeAll(async () => {
  pc = await startPipelineCloud(fleetOf('piece', [{ name: 'web', count: 2 }]), { queueVisibilitySeconds: 1 });
}, 60_000);
afterAll(async () => pc?.close());

const logger = createLogger({ sink: () => {} });
/** The bodies here are as task-events sent them (base64): what a trigger with IsBase64Decode: false delivers. */
const asSent = resultMessagesEnvelope({ isBase64Decode: false });

function result(runId: string, n: number): InstanceResult {
  return {
    version: 1, runId, invokeId: 't-1', commandId: 'c-1', instanceId: `i-conc${String(n).padStart(6, '0')}`, status: n % 5 === 0 ? 'Failed' : 'Success', exitCode: n % 5 === 0 ? 1 : 0,
    errorCode: n % 5 === 0 ? 'ExitCodeNonzero' : '', errorInfo: '', startTime: '2026-11-23T10:00:00Z', finishTime: `2026-11-23T10:00:${String(n % 60).padStart(2, '0')}Z`,
    output: `out ${n}\n`, outputBytes: 6, source: 'event',
  };
}

describe('task-events as a function', () => {
  it('skips malformed events and other commands with a reason, and fails nothing', async () => {
    const outcome = (await pc.cloud.fc!.invoke('fleetrun-task-events', [
      { id: 'e-1', source: 'acs.ecs', type: 'ecs:CloudAssistant:TaskCompleted', data: { commandId: 'c-1', instanceId: 'i-1', invocationStatus: 'Exploded' } },
      { id: 'e-2', source: 'acs.ecs', type: 'ecs:CloudAssistant:TaskCompleted', data: { commandId: 'c-2', commandName: 'someone-elses.sh', instanceId: 'i-2', invocationStatus: 'Success', exitCode: '0' } },
    ])) as { sent: number; skipped: { id: string; reason: string }[] };
    expect(outcome.sent).toBe(0);
    expect(outcome.skipped.map((s) => s.id)).toEqual(['e-1', 'e-2']);
    expect(outcome.skipped[0]!.reason).toMatch(/^malformed event: data\.invocationStatus/);
    expect(outcome.skipped[1]!.reason).toContain('not a fleetrun run');
  });

  it('answers a payload that is not JSON with an error, not a crash of the host', async () => {
    await expect(pc.cloud.fc!.invoke('fleetrun-task-events', Buffer.from('{not json'))).rejects.toMatchObject({ kind: 'FunctionError' });
    // The instance survives: the next invocation is served by the same process.
    await expect(pc.cloud.fc!.invoke('fleetrun-task-events', [])).resolves.toMatchObject({ sent: 0 });
  });
});

describe('two summarizers on one run', () => {
  it('converge to one exact summary and one reply', async () => {
    const runId = 'r-20261123t100000-conc01';
    const ids = Array.from({ length: 40 }, (_, n) => n);
    const manifest = runManifestSchema.parse({
      version: 1, runId, createdAt: '2026-11-23T10:00:00.000Z', requestedBy: { kind: 'cli' },
      command: { name: 'concurrent', type: 'RunShellScript', timeoutSeconds: 60 },
      targets: ids.map((n) => result(runId, n).instanceId), output: { mode: 'fetch' },
    });
    await pc.store.put(runKeys.manifest(runId), JSON.stringify(manifest));
    const replies: string[] = [];
    const chat = { reply: async (_m: unknown, _s: unknown, url: string) => void replies.push(url) };
    const message = (n: number) => ({ id: `m-${n}`, data: { messageId: `m-${n}`, messageBody: encodeResult(result(runId, n)) } });
    // Overlapping halves, delivered to both at once, each also seeing duplicates.
    const a = ids.filter((n) => n < 30).concat([0, 1]).map(message);
    const b = ids.filter((n) => n >= 10).concat([39]).map(message);
    const [ra, rb] = await Promise.all([handleResultMessages(asSent.records(a), { store: pc.store, chat, logger }), handleResultMessages(asSent.records(b), { store: pc.store, chat: { reply: chat.reply }, logger })]);
    // Each stored its batch as one object (30 instances each; its repeats are duplicates)…
    expect([ra.stored, rb.stored]).toEqual([30, 30]);
    expect(ra.duplicates + rb.duplicates).toBe(a.length + b.length - 60);
    expect([ra.runs[runId], rb.runs[runId]]).toContain('complete');
    // …which together name every instance, the 20 in both counted once by the summary below.
    const named: string[] = [];
    for await (const o of pc.store.list(runKeys.storedPrefix(runId))) named.push(...decodeResultBatch((await pc.store.get(o.key))!.toString(), false).instanceIds);
    expect(named).toHaveLength(60);
    expect(new Set(named)).toEqual(new Set(ids.map((n) => result(runId, n).instanceId)));
    const first = (await pc.store.get(runKeys.summaryJson(runId)))!.toString();
    // Folding again (a late redelivery) writes the same bytes and replies no more: the same batch
    // again is the same object, and one result in a batch of its own changes nothing.
    const again = await handleResultMessages(asSent.records(a), { store: pc.store, chat, logger });
    expect(again).toMatchObject({ stored: 0, duplicates: a.length });
    await handleResultMessages(asSent.records([message(7)]), { store: pc.store, chat, logger });
    expect((await pc.store.get(runKeys.summaryJson(runId)))!.toString()).toBe(first);
    const summary = JSON.parse(first) as { counts: { total: number; byStatus: Record<string, number> } };
    expect(summary.counts).toMatchObject({ total: 40, byStatus: { Failed: 8, Success: 32 } });
    expect(replies).toHaveLength(1);
    // The report link works without credentials.
    const res = await fetch(replies[0]!);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('id="status-chart"');
  });
});

describe('summarize on packed messages', () => {
  it('stores each result once whether it came packed or alone, and a packed message delivered again stores nothing', async () => {
    const runId = 'r-20261123t100000-pack01';
    const ids = Array.from({ length: 12 }, (_, n) => n);
    const manifest = runManifestSchema.parse({
      version: 1, runId, createdAt: '2026-11-23T10:00:00.000Z', requestedBy: { kind: 'cli' },
      command: { name: 'packed', type: 'RunShellScript', timeoutSeconds: 60 },
      targets: ids.map((n) => result(runId, n).instanceId), output: { mode: 'fetch' },
    });
    await pc.store.put(runKeys.manifest(runId), JSON.stringify(manifest));
    const [packed] = packResultMessages(ids.slice(0, 8).map((n) => resultJson(result(runId, n))));
    const first = [
      { data: { messageId: 'P1', messageBody: packed! } },
      // Instance 3 again, alone: a result sent twice (its event delivered again).
      { data: { messageId: 'L1', messageBody: encodeResult(result(runId, 3)) } },
    ];
    const a = await handleResultMessages(asSent.records(first), { store: pc.store, chat: NO_CHAT, logger });
    expect(a).toMatchObject({ stored: 8, duplicates: 1, skipped: [], runs: { [runId]: 'incomplete' } });
    const again = await handleResultMessages(asSent.records(first.slice(0, 1)), { store: pc.store, chat: NO_CHAT, logger });
    expect(again).toMatchObject({ stored: 0, duplicates: 8 });
    const [rest] = packResultMessages(ids.slice(8).map((n) => resultJson(result(runId, n))));
    const b = await handleResultMessages(asSent.records([{ data: { messageId: 'P2', messageBody: rest! } }]), { store: pc.store, chat: NO_CHAT, logger });
    expect(b).toMatchObject({ stored: 4, duplicates: 0, runs: { [runId]: 'complete' } });
    const summary = JSON.parse((await pc.store.get(runKeys.summaryJson(runId)))!.toString()) as { counts: { total: number; byStatus: Record<string, number> } };
    expect(summary.counts).toMatchObject({ total: 12, byStatus: { Failed: 3, Success: 9 } });
  });
});

describe('the result queue', () => {
  it('packs at most 16 messages and 64 KB a batch, and refuses one message over 64 KB', () => {
    const small = Array.from({ length: 40 }, () => 'x'.repeat(100));
    expect(packBatches(small).map((b) => b.length)).toEqual([16, 16, 8]);
    const big = Array.from({ length: 5 }, () => 'y'.repeat(30 * 1024));
    expect(packBatches(big).map((b) => b.length)).toEqual([2, 2, 1]);
    expect(() => packBatches(['z'.repeat(64 * 1024 + 1)])).toThrow(/over the 65536-byte limit/);
  });

  it('packs results into messages through BatchSendMessage to the local MNS, and summarize reads each result back', async () => {
    const mns = new MNSClient('1234567890123456', { accessKeyId: pc.cloud.serviceKey.id, accessKeySecret: pc.cloud.serviceKey.secret, endpoint: pc.cloud.mns.endpoint });
    await mns.createQueue('piece-q', {});
    const queue = new MnsResultQueue({ accountId: '1234567890123456', queueName: 'piece-q', credentials: { accessKeyId: pc.cloud.serviceKey.id, accessKeySecret: pc.cloud.serviceKey.secret }, endpoint: pc.cloud.mns.endpoint });
    const runId = 'r-20261123t100000-packed';
    // 40 small results fit one message; 6 of ~20 KB go two a message (a third would pass 64 KB as base64).
    const small = Array.from({ length: 40 }, (_, n) => result(runId, n));
    const large = Array.from({ length: 6 }, (_, n) => ({ ...result(runId, 40 + n), output: `${n}`.repeat(20_000) }));
    await queue.send(small.map(resultJson));
    expect((await mns.getQueueAttributes('piece-q')).body.ActiveMessages).toBe('1');
    await queue.send(large.map(resultJson));
    expect((await mns.getQueueAttributes('piece-q')).body.ActiveMessages).toBe('4');
    const received: { data: { messageId: string; messageBody: string } }[] = [];
    for (;;) {
      const batch = await mns.batchReceiveMessage('piece-q', 16).catch(() => undefined);
      if (!batch) break;
      for (const m of batch.body) received.push({ data: { messageId: m.MessageId!, messageBody: m.MessageBody! } });
      await mns.batchDeleteMessage('piece-q', batch.body.map((m) => m.ReceiptHandle!));
    }
    const records = asSent.records(received);
    expect(records.map((r) => (r.ok ? r.record : r.reason))).toEqual([...small, ...large]);
    expect(new Set(records.map((r) => r.id)).size).toBe(46);
    expect(records.map((r) => r.id.replace(/^[0-9A-F]+/, ''))).toEqual([...small.map((_, i) => `#${i}`), '#0', '#1', '#0', '#1', '#0', '#1']);
  });
});

describe('the result queue after a connection reset', () => {
  it('sends a batch once more when its connection was closed without an answer, and fails with ECONNRESET when it happens again', async () => {
    const mns = new MNSClient('1234567890123456', { accessKeyId: pc.cloud.serviceKey.id, accessKeySecret: pc.cloud.serviceKey.secret, endpoint: pc.cloud.mns.endpoint });
    await mns.createQueue('reset-q', {});
    const queue = new MnsResultQueue({ accountId: '1234567890123456', queueName: 'reset-q', credentials: { accessKeyId: pc.cloud.serviceKey.id, accessKeySecret: pc.cloud.serviceKey.secret }, endpoint: pc.cloud.mns.endpoint });
    const runId = 'r-20261123t100000-resets';
    const sends: string[] = [];
    let resets = 1;
    pc.cloud.mns.faults.reset = ({ action, queueName }) => {
      if (queueName !== 'reset-q' || action !== 'BatchSendMessage') return false;
      sends.push(action);
      return resets-- > 0;
    };
    try {
      await queue.send([resultJson(result(runId, 0))]);
      expect(sends).toHaveLength(2);
      expect((await mns.getQueueAttributes('reset-q')).body.ActiveMessages).toBe('1');

      resets = 2;
      sends.length = 0;
      await expect(queue.send([resultJson(result(runId, 1))])).rejects.toMatchObject({ name: 'QueueError', code: 'ECONNRESET' });
      expect(sends).toHaveLength(2);
      expect((await mns.getQueueAttributes('reset-q')).body.ActiveMessages).toBe('1');
    } finally {
      pc.cloud.mns.faults.reset = undefined;
    }
  });
});

describe('a queue trigger that keeps failing', () => {
  it('skips a message that is not a result, with its reason', async () => {
    const outcome = await handleResultMessages(asSent.records([{ id: 'm-x', data: { messageId: 'm-x', messageBody: encodeResult({ ...result('r-20261123t100000-poison', 1), instanceId: 'bad/../key' }) } }]), { store: pc.store, chat: NO_CHAT, logger });
    expect(outcome.stored).toBe(0);
    expect(outcome.skipped[0]!.reason).toMatch(/^instanceId: /);
  });

  it('sends its messages, one result or packed, to the dead-letter queue after the configured attempts, bodies as sent', async () => {
    const mns = new MNSClient('1234567890123456', { accessKeyId: pc.cloud.serviceKey.id, accessKeySecret: pc.cloud.serviceKey.secret, endpoint: pc.cloud.mns.endpoint });
    const source = pc.cloud.fc!.sources[0]!;
    // The runs bucket refuses every write of this run's results, so each delivery of the batch fails.
    pc.cloud.oss.faults.fail = ({ action, key }) => (action === 'PutObject' && key.includes('r-20261123t100000-stuck') ? 'InternalError' : undefined);
    // A message of one result (as every message was before packing) and a packed one, sent together.
    const stuck = encodeResult(result('r-20261123t100000-stuck', 1));
    const [stuckPacked] = packResultMessages([2, 3].map((n) => resultJson(result('r-20261123t100000-stuck', n))));
    await mns.batchSendMessage('fleetrun-results', [{ MessageBody: stuck }, { MessageBody: stuckPacked! }]);
    await waitUntil(() => source.counts.deadLettered >= 2, 30_000, 'the messages to be dead-lettered');
    pc.cloud.oss.faults.fail = undefined;
    const dlq = await mns.batchReceiveMessage('fleetrun-results-dlq', 16);
    expect(dlq.body.map((m) => m.MessageBody).sort()).toEqual([stuck, stuckPacked].sort());
    expect(source.counts.deadLettered).toBe(2);
    // Either is read back from there as the results it carries.
    expect(asSent.records(dlq.body.map((m) => ({ data: { messageId: m.MessageId, messageBody: m.MessageBody } }))).map((r) => (r.ok ? r.record.instanceId : r.reason)).sort()).toEqual([1, 2, 3].map((n) => result('r-20261123t100000-stuck', n).instanceId));
    expect(source.counts.failedBatches).toBeGreaterThanOrEqual(1);
    // Gone from the results queue: nothing is left to be delivered again.
    const left = await mns.getQueueAttributes('fleetrun-results');
    expect([left.body.ActiveMessages, left.body.InactiveMessages]).toEqual(['0', '0']);
  }, 60_000);
});
