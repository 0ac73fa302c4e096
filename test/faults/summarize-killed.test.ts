/**
 * The summarize function's process killed (SIGKILL, not a thrown error) while it works: between
 * storing a batch's results and the run's summary; while the one object holding a batch's results
 * is being written; and after claiming the run's final reply but before the
 * reply was delivered. The batch's MNS messages come back after the visibility timeout (and the
 * reconciler's tick takes an unconfirmed reply over), so the run still ends in one exact summary,
 * one final chat reply, nothing dead-lettered and no command executed twice.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeResultBatch } from '../../shared/pipeline/result-batch.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { listenOnChatThreadPort, startChatThread, type ChatThread, type ThreadReply } from '../../local/cli/chat-thread.ts';
import { fleetOf, startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { expectEachExecutedOnce, expectExactSummary, summaryOf } from '../support/run-checks.ts';
import { DEAD_LETTERS, everyResultSent, expectedStatuses, FINE_OR_FAILING_SCRIPT, queued, RESULTS_QUEUE, STAGGERED_SCRIPT, watchSummarizeBatches } from '../support/fault-runs.ts';

let pc: PipelineCloud | undefined;
let thread: ChatThread | undefined;
let server: Server | undefined;
afterEach(async () => {
  await pc?.close();
  await thread?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  pc = thread = server = undefined;
});

/** Instances named by the run's stored batch objects, each once. */
async function storedInstances(pc: PipelineCloud, runId: string): Promise<number> {
  const named = new Set<string>();
  for await (const o of pc.store.list(runKeys.storedPrefix(runId))) for (const id of decodeResultBatch((await pc.store.get(o.key))!.toString('utf8'), false).instanceIds) named.add(id);
  return named.size;
}

/** A chat thread that collects the final replies (the ones carrying the report link). */
async function finalReplies(): Promise<ThreadReply[]> {
  const finals: ThreadReply[] = [];
  thread = await startChatThread(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, (r) => {
    if (r.link) finals.push(r);
  });
  return finals;
}

describe('the summarize function killed while it works', () => {
  it('between writing the results and the summary: redelivered, it finishes the run', async () => {
    // Prepare
    pc = await startPipelineCloud(fleetOf('kill', [{ name: 'web', count: 8 }]), { queueVisibilitySeconds: 2 });
    const summarize = pc.cloud.fc!.functions.get('fleetrun-summarize')!;
    const finals = await finalReplies();
    let killed = 0;
    // Hold the first write of the summary, and kill the function's process while it waits.
    pc.cloud.oss.faults.delay = ({ action, key }) => {
      if (action !== 'PutObject' || !key.endsWith('/summary.md') || killed > 0) return 0;
      killed++;
      setTimeout(() => summarize.kill(), 50);
      return 1000;
    };

    // Act
    const manifest = await pc.run({
      command: { name: 'kill-check', type: 'RunShellScript', script: FINE_OR_FAILING_SCRIPT, timeoutSeconds: 10 },
      targets: { tags: { env: 'kill' } },
      requestedBy: { kind: 'cli' },
      replyTo: { platform: 'webhook', callbackUrl: thread!.url },
    });
    await waitUntil(() => summarize.stats.crashes > 0, 30_000, 'the summarizer to be killed');

    // Assess: every result was stored before it died; the summary was not.
    expect(await storedInstances(pc, manifest.runId)).toBe(8);
    expect(await pc.store.get(runKeys.summaryJson(manifest.runId))).toBeUndefined();

    const summary = await summaryOf(pc.store, manifest.runId);
    expectExactSummary(summary, expectedStatuses('kill', 8, 0));
    expect(summarize.stats.coldStarts).toBeGreaterThanOrEqual(2);
    await waitUntil(() => finals.length > 0, 10_000, 'the final reply');
    expect(finals).toHaveLength(1);
    expect(await queued(pc, DEAD_LETTERS)).toBe(0);
    expectEachExecutedOnce(pc.cloud.ecs);
    expect(pc.cloud.ecs.agents.executionLog).toHaveLength(8);
  }, 60_000);

  it('in the middle of storing a batch, its object written by a process that is gone: the messages come back and the summary is exact', async () => {
    // Prepare
    const WEB = 17;
    const BAD = 3;
    const TOTAL = WEB + BAD;
    pc = await startPipelineCloud(fleetOf('half', [{ name: 'web', count: WEB }, { name: 'bad', count: BAD }]), { queueVisibilitySeconds: 2 });
    const cloud = pc.cloud;
    const summarize = cloud.fc!.functions.get('fleetrun-summarize')!;
    const source = cloud.fc!.sources[0]!;
    const finals = await finalReplies();
    // The first batch (the four early instances) waits at its write until every result is queued,
    // so the batch after it takes all that are left. That one's object is held as it is written;
    // the process is killed while it waits, and the held write then fails.
    const batches = watchSummarizeBatches(pc);
    const everythingQueued = waitUntil(() => everyResultSent(pc!, TOTAL), 30_000, 'every result to be queued');
    let firstWrites = 0;
    const storedBatches = () => cloud.oss.store.list('fleetrun-runs', 'runs/').filter((k) => k.includes('/stored/'));
    const held = new Set<string>();
    let killing: Promise<void> | undefined;
    let atKill: { stored: string[]; inBatch: number; visible: number } | undefined;
    cloud.oss.faults.delay = ({ action, key }) => {
      if (action !== 'PutObject' || !key.includes('/stored/') || atKill) return 0;
      if (summarize.stats.invocations === 1) return firstWrites++ === 0 ? everythingQueued : 0;
      held.add(key);
      killing ??= (async () => {
        const { inactiveMessages, activeMessages } = await cloud.mns.store.getQueueAttributes(RESULTS_QUEUE);
        atKill = { stored: storedBatches(), inBatch: inactiveMessages, visible: activeMessages };
        summarize.kill();
        await waitUntil(() => summarize.stats.crashes > 0, 5_000, 'the summarizer to die');
      })();
      return killing;
    };
    // The write the process was waiting on when it died never lands (its redelivered twin does).
    cloud.oss.faults.fail = ({ action, key }) => {
      if (action !== 'PutObject' || !held.delete(key)) return undefined;
      return 'InternalError';
    };

    // Act
    const manifest = await pc.run({
      command: { name: 'half-check', type: 'RunShellScript', script: STAGGERED_SCRIPT, timeoutSeconds: 10 },
      targets: { tags: { env: 'half' } },
      requestedBy: { kind: 'cli' },
      replyTo: { platform: 'webhook', callbackUrl: thread!.url },
    });
    await waitUntil(() => atKill !== undefined && held.size === 0, 30_000, 'the summarizer to be killed and its write in flight dropped');

    // Assess: killed inside its second batch, with the first batch's object stored and the second's not.
    expect(summarize.stats.invocations).toBe(2);
    expect(atKill).toBeDefined();
    // Its messages were all the queue held, and carried every result the first batch did not.
    expect(atKill!.inBatch).toBeGreaterThanOrEqual(1);
    expect(atKill!.visible).toBe(0);
    expect(batches.slice(0, 2).map((b) => b.ok)).toEqual([true, false]);
    expect(batches[0]!.results).toBeGreaterThanOrEqual(1);
    // The second batch took every result the first did not (and, on a loaded machine, may hold the
    // first batch's messages again too: they come back when its wait outlasts the 2 s visibility).
    const second = new Set(batches[1]!.instanceIds);
    expect(batches[0]!.instanceIds.filter((id) => second.has(id)).length).toBeOneOf([0, batches[0]!.results]);
    expect(new Set([...batches[0]!.instanceIds, ...second]).size).toBe(TOTAL);
    expect(batches[1]!.results).toBe(second.size);
    expect(atKill!.stored).toHaveLength(1);

    const summary = await summaryOf(pc.store, manifest.runId);
    expectExactSummary(summary, expectedStatuses('half', WEB, BAD));
    expect(summary.status).toBe('PartialFailed');
    expect(await storedInstances(pc, manifest.runId)).toBe(TOTAL);
    // The killed batch failed and came back; what was stored before it was found again, not doubled.
    expect(source.counts.failedBatches).toBeGreaterThanOrEqual(1);
    expect(summarize.stats.coldStarts).toBeGreaterThanOrEqual(2);
    await waitUntil(async () => finals.length > 0 && (await queued(pc!, RESULTS_QUEUE)) === 0, 15_000, 'the final reply and an empty queue');
    expect(finals).toHaveLength(1);
    expect(finals[0]!.message).toContain(`half-check ${manifest.runId}: PartialFailed — ${WEB} succeeded, ${BAD} failed`);
    expect(await queued(pc, DEAD_LETTERS)).toBe(0);
    expectEachExecutedOnce(cloud.ecs);
    expect(cloud.ecs.agents.executionLog).toHaveLength(TOTAL);
  }, 60_000);

  it('after claiming the final reply and before it was delivered: the reconciler tick takes the reply over and sends it once', async () => {
    // Prepare
    const TAKEOVER_SECONDS = 8;
    pc = await startPipelineCloud(fleetOf('mute', [{ name: 'web', count: 6 }]), {
      queueVisibilitySeconds: 2,
      functionEnv: { FLEETRUN_REPLY_TAKEOVER_SECONDS: String(TAKEOVER_SECONDS) },
    });
    const cloud = pc.cloud;
    const summarize = cloud.fc!.functions.get('fleetrun-summarize')!;
    // The chat thread: the first final reply kills its sender as it arrives and is not acknowledged,
    // so it was never delivered; every other reply is.
    const delivered: { message: string; link?: unknown }[] = [];
    let refused = 0;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const reply = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message: string; link?: unknown };
        if (reply.link && refused === 0) {
          refused++;
          summarize.kill();
          res.destroy();
          return;
        }
        delivered.push(reply);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    // On a chat thread port: the local cloud lets webhook replies go there and nowhere else.
    const callbackUrl = `http://127.0.0.1:${await listenOnChatThreadPort(server)}/thread`;

    // Act
    const manifest = await pc.run({
      command: { name: 'mute-check', type: 'RunShellScript', script: FINE_OR_FAILING_SCRIPT, timeoutSeconds: 10 },
      targets: { tags: { env: 'mute' } },
      requestedBy: { kind: 'cli' },
      replyTo: { platform: 'webhook', callbackUrl },
    });
    await waitUntil(() => summarize.stats.crashes > 0, 30_000, 'the summarizer to be killed while replying');
    // The killed batch comes back and is summarized again; the claim is still fresh, so nobody replies.
    await waitUntil(async () => (await queued(pc!, RESULTS_QUEUE)) === 0, 20_000, 'the killed batch to be redelivered and done');

    // Assess: summarized, reply claimed but not delivered, and the run kept open for the reconciler.
    expectExactSummary(await summaryOf(pc.store, manifest.runId), expectedStatuses('mute', 6, 0));
    const claimedAt = Date.parse((await pc.store.get(runKeys.replyClaim(manifest.runId, 0)))!.toString('utf8'));
    expect(Date.now() - claimedAt).toBeLessThan(TAKEOVER_SECONDS * 1000);
    expect(delivered.filter((r) => r.link)).toEqual([]);
    expect(await pc.store.get(runKeys.replySent(manifest.runId))).toBeUndefined();
    expect(await pc.store.get(runKeys.openMarker(manifest.runId))).toBeDefined();

    // Act: the reconciler's tick once the claim has gone stale.
    await new Promise((r) => setTimeout(r, Math.max(0, claimedAt + TAKEOVER_SECONDS * 1000 + 500 - Date.now())));
    await cloud.fc!.fireTimer('fleetrun-schedule');

    // Assess: one reply, confirmed; the run left the open index, and a second tick does nothing.
    const finals = delivered.filter((r) => r.link);
    expect(finals).toHaveLength(1);
    expect(finals[0]!.message).toContain(`mute-check ${manifest.runId}: Success — 6 succeeded`);
    expect(await pc.store.get(runKeys.replySent(manifest.runId))).toBeDefined();
    expect(await pc.store.get(runKeys.openMarker(manifest.runId))).toBeUndefined();
    const again = (await cloud.fc!.fireTimer('fleetrun-schedule')) as { runsChecked: number; calls: number };
    expect([again.runsChecked, again.calls]).toEqual([0, 0]);
    expect(delivered.filter((r) => r.link)).toHaveLength(1);
    expectEachExecutedOnce(cloud.ecs);
  }, 60_000);
});
