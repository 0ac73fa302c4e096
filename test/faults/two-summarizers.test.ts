/**
 * Two summarizers on one run at once: two instances of the summarize function, each in its own
 * process behind its own event-streaming task on the results queue (s.yaml's trigger allows
 * `maximumTasks: 2`), take different batches of the same run's result messages — every message
 * sent twice, so the batches overlap — and check the run's completion at the same moment. The
 * summary is created once and is exact, no result is counted twice or missing, one final reply
 * goes out, and a duplicated message after the end changes nothing.
 */
import MNSClient from '@alicloud/mns';
import { afterEach, describe, expect, it } from 'vitest';
import type { SummarizeOutcome } from '../../shared/pipeline/summarize.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { startChatThread, type ChatThread, type ThreadReply } from '../../local/cli/chat-thread.ts';
import { MnsStreamSource } from '../../local/eventbridge/mns-source.ts';
import { FunctionInstance } from '../../local/fc/function-instance.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { fleetOf, startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { expectEachExecutedOnce, expectExactSummary, summaryOf } from '../support/run-checks.ts';
import { DEAD_LETTERS, everyResultSent, expectedStatuses, FINE_OR_FAILING_SCRIPT, RESULTS_QUEUE, resultsInEvents, visibleResults } from '../support/fault-runs.ts';

const WEB = 13;
const BAD = 3;
const TOTAL = WEB + BAD;

let pc: PipelineCloud | undefined;
let thread: ChatThread | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await pc?.close();
  await thread?.close();
  pc = thread = undefined;
});

/** The batch window of s.yaml's results-queue trigger, as deployed. */
function batchWindow(pc: PipelineCloud): { count: number; seconds: number } {
  const fn = pc.cloud.sYaml!.functions.find((f) => f.props.functionName === 'fleetrun-summarize')!;
  const run = (fn.props.triggers[0]!.triggerConfig as { runOptions?: { batchWindow?: { CountBasedWindow?: number; TimeBasedWindow?: number } } }).runOptions;
  return { count: run?.batchWindow?.CountBasedWindow ?? 1, seconds: run?.batchWindow?.TimeBasedWindow ?? 0 };
}

/** A promise that resolves once `n` callers have asked for it (or after `ms`, so nobody waits forever). */
function barrier(n: number, ms: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const timer = setTimeout(open, ms);
  return () => {
    if (++arrived >= n) {
      clearTimeout(timer);
      open();
    }
    return opened;
  };
}

describe('two summarizers on the same run', () => {
  it('write the summary once, exact, with every result counted once, and reply once', async () => {
    pc = await startPipelineCloud(fleetOf('pair', [{ name: 'web', count: WEB }, { name: 'bad', count: BAD }]));
    const cloud = pc.cloud;
    const expected = expectedStatuses('pair', WEB, BAD);
    const finals: ThreadReply[] = [];
    thread = await startChatThread(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, (r) => {
      if (r.link) finals.push(r);
    });
    // The host's own task on the queue stands aside until every message is queued; then two take over.
    await cloud.fc!.sources[0]!.stop();
    const first = cloud.fc!.functions.get('fleetrun-summarize')!;
    const second = new FunctionInstance({ ...first.options });
    cleanups.push(() => second.close());
    const mns = new MNSClient(cloud.mns.accountId, { accessKeyId: cloud.serviceKey.id, accessKeySecret: cloud.serviceKey.secret, endpoint: cloud.mns.endpoint });
    const outcomes: { by: 'first' | 'second'; outcome: SummarizeOutcome; events: unknown[] }[] = [];
    let originals = 0;
    const window = batchWindow(pc);
    const sourceFor = (by: 'first' | 'second', fn: FunctionInstance) =>
      new MnsStreamSource({
        client: mns,
        queueName: RESULTS_QUEUE,
        sourceName: `MNS-fleetrun-summarize-results-queue-${by}`,
        region: 'cn-hangzhou',
        accountId: cloud.mns.accountId,
        // One copy of every message each: the deployed window (up to 100) would let one take all.
        countWindow: originals,
        timeWindowSeconds: window.seconds,
        base64Decode: true,
        maxRetryAttempts: 5,
        deadLetterQueue: DEAD_LETTERS,
        target: async (events) => {
          const outcome = (await fn.invoke(Buffer.from(JSON.stringify(events)))) as SummarizeOutcome;
          outcomes.push({ by, outcome, events });
          return outcome;
        },
        log: () => {},
      });

    // Act: the run's results all queue up, twice each.
    const manifest = await pc.run({
      command: { name: 'pair-check', type: 'RunShellScript', script: FINE_OR_FAILING_SCRIPT, timeoutSeconds: 10 },
      targets: { tags: { env: 'pair' } },
      requestedBy: { kind: 'cli' },
      replyTo: { platform: 'webhook', callbackUrl: thread.url },
    });
    await waitUntil(() => everyResultSent(pc!, TOTAL), 30_000, 'every result to be queued');
    expect((await visibleResults(pc, RESULTS_QUEUE)).map((r) => r.instanceId).sort()).toEqual([...expected.keys()].sort());
    // Every message sent once more, behind all the originals: the first batch taken holds every
    // original and the second every copy, so the two summarizers see the same instances.
    originals = (await cloud.mns.store.getQueueAttributes(RESULTS_QUEUE)).activeMessages;
    for (const m of await cloud.mns.store.peekMessages(RESULTS_QUEUE, originals)) await mns.sendMessage(RESULTS_QUEUE, { MessageBody: m.body });
    expect((await cloud.mns.store.getQueueAttributes(RESULTS_QUEUE)).activeMessages).toBe(2 * originals);

    // Both completion checks (the listing of the run's results) wait for each other, so both
    // summarizers find the run complete at the same moment and race to write its summary.
    const bothChecking = barrier(2, 20_000);
    const summaryWrites: number[] = [];
    cloud.oss.faults.delay = ({ action }) => (action === 'ListObjectsV2' ? bothChecking() : 0);
    cloud.oss.spy.answered = ({ action, key, status }) => {
      if (action === 'PutObject' && key === runKeys.summaryJson(manifest.runId)) summaryWrites.push(status);
    };
    const sources = [sourceFor('first', first), sourceFor('second', second)];
    for (const s of sources) s.start();
    cleanups.push(async () => void (await Promise.all(sources.map((s) => s.stop()))));
    await waitUntil(() => outcomes.length >= 2, 30_000, 'both summarizers to finish a batch');
    cloud.oss.faults.delay = undefined;

    // Assess: each took one batch of the same run, with overlaps, and each found the run complete.
    expect(outcomes.map((o) => o.by).sort()).toEqual(['first', 'second']);
    expect(outcomes.map((o) => o.outcome.runs[manifest.runId])).toEqual(['complete', 'complete']);
    expect(outcomes.reduce((n, o) => n + o.outcome.stored, 0)).toBe(TOTAL);
    expect(outcomes.reduce((n, o) => n + o.outcome.duplicates, 0)).toBe(TOTAL);
    const seenBy = outcomes.map((o) => new Set(resultsInEvents(o.events).map((r) => r.instanceId)));
    expect([...seenBy[0]!].some((id) => seenBy[1]!.has(id)), 'the two batches share an instance').toBe(true);
    expect(new Set([...seenBy[0]!, ...seenBy[1]!]).size).toBe(TOTAL);
    // Both tried to create summary.json; one did, the other was refused and left it as it was.
    expect(summaryWrites.sort()).toEqual([200, 409]);

    const summary = await summaryOf(pc.store, manifest.runId);
    expectExactSummary(summary, expected);
    expect(summary.status).toBe('PartialFailed');
    await waitUntil(() => finals.length > 0, 10_000, 'the final reply');

    // A duplicated message after the end: stored once already, and the summary is not written again.
    const late = outcomes[0]!.events[0]!;
    const lateResults = resultsInEvents([late]).length;
    await mns.sendMessage(RESULTS_QUEUE, { MessageBody: Buffer.from((late as { data: { messageBody: string } }).data.messageBody, 'utf8').toString('base64') });
    await waitUntil(() => outcomes.length === 3, 15_000, 'the duplicated message to be summarized');
    expect(outcomes[2]!.outcome).toMatchObject({ stored: 0, duplicates: lateResults, runs: { [manifest.runId]: 'complete' } });
    expect(summaryWrites).toEqual([200, 409]);
    expectExactSummary(await summaryOf(pc.store, manifest.runId), expected);

    expect(finals).toHaveLength(1);
    expect(finals[0]!.message).toContain(`pair-check ${manifest.runId}: PartialFailed — ${WEB} succeeded, ${BAD} failed`);
    const queues = await Promise.all([RESULTS_QUEUE, DEAD_LETTERS].map((q) => cloud.mns.store.getQueueAttributes(q)));
    expect(queues.map((q) => q.activeMessages + q.inactiveMessages)).toEqual([0, 0]);
    expectEachExecutedOnce(cloud.ecs);
    expect(cloud.ecs.agents.executionLog).toHaveLength(TOTAL);
  }, 60_000);
});
