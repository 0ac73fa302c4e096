/**
 * The local MNS and OSS restarted in the middle of a run: stopped (connections in flight cut,
 * requests refused) and started again on the same port and data folder, so clients and functions
 * keep their endpoint. While a service is down the functions' calls fail and are retried by what
 * the design has for it — MNS redelivery after the visibility timeout for the summarizer, the
 * reconciler's tick for TaskCompleted events the bus gave up on, FC's async retries for dispatch.
 * Each test ends with nothing accepted lost (every queued message and stored object is still
 * there), one exact summary, one final reply where a chat asked, and no command executed twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import { storedBatches } from '../../shared/pipeline/stored-results.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { startChatThread, type ChatThread, type ThreadReply } from '../../local/cli/chat-thread.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import type { AsyncInvocationRecord } from '../../local/fc/async-invocations.ts';
import { fleetOf, startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { expectEachExecutedOnce, expectExactSummary, summaryOf } from '../support/run-checks.ts';
import { DEAD_LETTERS, everyResultSent, expectedStatuses, FINE_OR_FAILING_SCRIPT, queued, RESULTS_QUEUE, STAGGERED_SCRIPT, watchSummarizeBatches } from '../support/fault-runs.ts';

const RUNS_BUCKET = 'fleetrun-runs';

let pc: PipelineCloud | undefined;
let thread: ChatThread | undefined;
afterEach(async () => {
  await pc?.close();
  await thread?.close();
  pc = thread = undefined;
});

/** Objects holding a batch of stored results, of any run, straight from the local OSS's index. */
function storedResults(pc: PipelineCloud): string[] {
  return pc.cloud.oss.store.list(RUNS_BUCKET, 'runs/').filter((k) => k.includes('/stored/'));
}

/** Instances the run's stored batches name, each once. */
async function storedInstances(pc: PipelineCloud, runId: string): Promise<number> {
  return new Set((await storedBatches(pc.store, runId)).flatMap((b) => b.instanceIds)).size;
}

async function chatThread(): Promise<ThreadReply[]> {
  const replies: ThreadReply[] = [];
  thread = await startChatThread(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, (r) => replies.push(r));
  return replies;
}

/** Asks for `text` through the signed webhook, as a chat would, replies going to the thread; answers the run id the ack names. */
async function runByChat(pc: PipelineCloud, text: string): Promise<string> {
  const chatUrl = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
  const body = JSON.stringify({ user: 'demo-ci', text, callbackUrl: thread!.url });
  const ack = await fetch(`${chatUrl}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) } });
  expect(ack.status).toBe(200);
  const runId = /Run (r-[a-z0-9-]+) started/.exec(((await ack.json()) as { message?: string }).message ?? '')?.[1];
  expect(runId).toBeDefined();
  return runId!;
}

/**
 * OSS goes down under dispatch's first request (the run's manifest) and stays down until
 * `backWhen` holds of dispatch's async invocation. `over()` resolves once dispatch has reached
 * OSS and OSS is back.
 */
function ossDownUnderDispatch(pc: PipelineCloud, backWhen: (dispatch: AsyncInvocationRecord | undefined) => boolean, waitingFor: string, timeoutMs: number) {
  const cloud = pc.cloud;
  const dispatchRecord = () => cloud.fc!.asyncInvocations.list().find((r) => r.functionName === 'fleetrun-dispatch');
  let restart: Promise<void> | undefined;
  cloud.oss.faults.delay = ({ action, key }) => {
    if (restart || action !== 'GetObject' || !key.endsWith('/manifest.json')) return 0;
    restart = cloud.oss.restart(() => waitUntil(() => backWhen(dispatchRecord()), timeoutMs, waitingFor));
    return waitUntil(() => !cloud.oss.up, 5_000, 'OSS to go down');
  };
  return {
    dispatchRecord,
    async over(): Promise<void> {
      await waitUntil(() => restart !== undefined, 30_000, 'dispatch to reach OSS');
      await restart;
    },
  };
}

describe('MNS and OSS restarted in the middle of a run', () => {
  it('MNS with every result accepted and a batch in flight, then OSS with a result write in flight: nothing lost, one exact summary', async () => {
    // Prepare
    const WEB = 20;
    const BAD = 4;
    const TOTAL = WEB + BAD;
    // One instance per function: the summarizer holds one batch, and the source's second push waits
    // for it. With more, FC 3.0 runs that push on a second instance, which may take every result
    // left and leave none to write after MNS is back.
    pc = await startPipelineCloud(fleetOf('rest', [{ name: 'web', count: WEB }, { name: 'bad', count: BAD }]), { queueVisibilitySeconds: 2, fcMaxInstancesPerFunction: 1 });
    const cloud = pc.cloud;
    const summarize = cloud.fc!.functions.get('fleetrun-summarize')!;
    const source = cloud.fc!.sources[0]!;
    const batches = watchSummarizeBatches(pc);
    const replies = await chatThread();
    // The summarizer's first batch waits at its write until MNS is down.
    let releaseFirstBatch!: () => void;
    const mnsDown = new Promise<void>((resolve) => (releaseFirstBatch = resolve));
    let firstWrite = true;
    let mnsBack = false;
    let held: { key: string; stored: string[]; failed?: boolean } | undefined;
    let ossRestart: Promise<void> | undefined;
    cloud.oss.faults.delay = ({ action, key }) => {
      if (action !== 'PutObject' || !key.includes('/stored/')) return 0;
      if (firstWrite) {
        firstWrite = false;
        return mnsDown;
      }
      // A redelivered batch already stored does not count: the write OSS goes down under must be new.
      if (!mnsBack || held || storedResults(pc!).includes(key)) return 0;
      // The first new batch written after MNS came back: OSS goes down under it.
      held = { key, stored: storedResults(pc!) };
      ossRestart = cloud.oss.restart(() => waitUntil(() => source.counts.failedBatches > 0, 20_000, 'the summarizer to fail its batch'));
      return waitUntil(() => !cloud.oss.up, 5_000, 'OSS to go down');
    };
    // The write OSS was holding when it went down never landed.
    cloud.oss.faults.fail = ({ action, key }) => {
      if (action !== 'PutObject' || key !== held?.key || held.failed) return undefined;
      held.failed = true;
      return 'InternalError';
    };

    // Act 1: the run's results queue up while the summarizer holds its first batch.
    const manifest = await pc.run({
      command: { name: 'restart-check', type: 'RunShellScript', script: STAGGERED_SCRIPT, timeoutSeconds: 10 },
      targets: { tags: { env: 'rest' } },
      requestedBy: { kind: 'cli' },
      replyTo: { platform: 'webhook', callbackUrl: thread!.url },
    });
    await waitUntil(() => everyResultSent(pc!, TOTAL), 30_000, 'every result to be queued');
    expect(source.counts.delivered).toBe(0);
    const messages = await queued(pc, RESULTS_QUEUE);

    // Act 2: MNS restarts. While it is down the held batch is written and handed back, and its
    // deletion fails, so those messages stay in the queue too.
    await cloud.mns.restart(async () => {
      expect(cloud.mns.up).toBe(false);
      releaseFirstBatch();
      await waitUntil(() => source.counts.delivered > 0, 20_000, 'the held batch to be summarized');
    });
    mnsBack = true;

    // Assess 1: every accepted message survived the restart; the held batch's results were written.
    expect(await queued(pc, RESULTS_QUEUE)).toBe(messages);
    expect(batches[0]!.ok).toBe(true);
    expect(await storedInstances(pc, manifest.runId)).toBe(batches[0]!.results);

    // Act 3: OSS goes down under the write of a later batch (see the delay above).
    await waitUntil(() => ossRestart !== undefined, 30_000, 'OSS to be restarted under a write');
    await ossRestart;

    // Assess 2: every object stored before the restart is still there; the held write is not.
    expect(held!.failed).toBe(true);
    const after = new Set(storedResults(pc));
    expect(held!.stored.filter((k) => !after.has(k))).toEqual([]);
    expect(after.has(held!.key)).toBe(false);

    const summary = await summaryOf(pc.store, manifest.runId);
    expectExactSummary(summary, expectedStatuses('rest', WEB, BAD));
    expect(await storedInstances(pc, manifest.runId)).toBe(TOTAL);
    await waitUntil(async () => replies.some((r) => r.link) && (await queued(pc!, RESULTS_QUEUE)) === 0, 15_000, 'the final reply and an empty queue');
    expect(replies.filter((r) => r.link)).toHaveLength(1);
    expect(await queued(pc, DEAD_LETTERS)).toBe(0);
    expect(cloud.bus.deadLetters).toEqual([]);
    expect(summarize.stats.crashes).toBe(0);
    expectEachExecutedOnce(cloud.ecs);
    expect(cloud.ecs.agents.executionLog).toHaveLength(TOTAL);
  }, 60_000);

  it('both down while the instances finish: the bus gives up on every event, and the reconciler feeds every result after the deadline', async () => {
    // Prepare
    const WEB = 8;
    const BAD = 2;
    const TOTAL = WEB + BAD;
    const TIMEOUT_SECONDS = 10;
    pc = await startPipelineCloud(fleetOf('dark', [{ name: 'web', count: WEB }, { name: 'bad', count: BAD }]), {
      queueVisibilitySeconds: 2,
      functionEnv: { FLEETRUN_RECONCILE_GRACE_SECONDS: '0' },
    });
    const cloud = pc.cloud;
    const replies = await chatThread();

    // Act: both go down before any instance finishes, and come back once the bus has given up on
    // every TaskCompleted event (task-events could reach neither the manifest nor the queue).
    const manifest = await pc.run({
      command: { name: 'dark-check', type: 'RunShellScript', script: `sleep 2; ${FINE_OR_FAILING_SCRIPT}`, timeoutSeconds: TIMEOUT_SECONDS },
      targets: { tags: { env: 'dark' } },
      requestedBy: { kind: 'cli' },
      replyTo: { platform: 'webhook', callbackUrl: thread!.url },
    });
    let emittedWhenDown = -1;
    await cloud.oss.restart(() =>
      cloud.mns.restart(async () => {
        emittedWhenDown = cloud.ecs.events.emitted.length;
        await waitUntil(() => cloud.ecs.events.emitted.length === TOTAL, 30_000, 'every instance to finish');
        await cloud.bus.drain();
      }),
    );

    // Assess: nothing got through, and nothing accepted before was lost (the manifest, the open marker).
    expect(emittedWhenDown).toBe(0);
    expect(cloud.bus.deadLetters).toHaveLength(TOTAL);
    expect(storedResults(pc)).toEqual([]);
    expect(await pc.store.get(runKeys.manifest(manifest.runId))).toBeDefined();
    expect(await pc.store.get(runKeys.openMarker(manifest.runId))).toBeDefined();

    // Act: the reconciler's tick once the run is past its timeout (plus a grace of 0 here).
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(manifest.createdAt) + TIMEOUT_SECONDS * 1000 + 500 - Date.now())));
    const tick = (await cloud.fc!.fireTimer('fleetrun-schedule')) as { runsRepaired: string[]; resultsFed: number };

    // Assess
    expect(tick).toMatchObject({ runsRepaired: [manifest.runId], resultsFed: TOTAL });
    const summary = await summaryOf(pc.store, manifest.runId);
    expectExactSummary(summary, expectedStatuses('dark', WEB, BAD));
    // The outputs came through the API, since their delivery to OSS failed while it was down.
    for (const i of summary.instances) expect(i.outputTail).toMatch(i.status === 'Success' ? /fine web-\d\d/ : /failing/);
    await waitUntil(() => replies.some((r) => r.link), 10_000, 'the final reply');
    expect(replies.filter((r) => r.link)).toHaveLength(1);
    expect(await queued(pc, DEAD_LETTERS)).toBe(0);
    expectEachExecutedOnce(cloud.ecs);
    expect(cloud.ecs.agents.executionLog).toHaveLength(TOTAL);
  }, 60_000);

  it('OSS down as dispatch starts a chat run: FC retries the async invocation, and the run starts once and replies once', async () => {
    // Prepare
    pc = await startPipelineCloud(fleetOf('demo', [{ name: 'web', count: 5 }]));
    const cloud = pc.cloud;
    const replies = await chatThread();
    // Back once that attempt has failed; FC's retry then finds it back.
    const outage = ossDownUnderDispatch(pc, (dispatch) => dispatch?.error !== undefined, 'the first dispatch attempt to fail', 20_000);

    // Act
    const runId = await runByChat(pc, 'run uptime on env=demo');
    await outage.over();
    const settled = await cloud.fc!.asyncInvocations.settled(outage.dispatchRecord()!.requestId, 30_000);

    // Assess
    expect(settled).toMatchObject({ status: 'succeeded', attempts: 2 });
    const summary = await summaryOf(pc.store, runId);
    expectExactSummary(summary, expectedStatuses('demo', 5, 0));
    await waitUntil(() => replies.some((r) => r.link), 10_000, 'the final reply');
    const finals = replies.filter((r) => r.link);
    expect(finals).toHaveLength(1);
    expect(finals[0]!.message).toContain(`uptime ${runId}: Success — 5 succeeded`);
    expect(cloud.ecs.calls.RunCommand).toBe(1);
    expectEachExecutedOnce(cloud.ecs);
    expect(cloud.ecs.agents.executionLog).toHaveLength(5);
  }, 60_000);

  it('OSS down for longer than FC retries dispatch: the schedule tick finds the pending run and starts it once', async () => {
    // Prepare: a pending run is dispatched again by the first tick that sees it (no waiting here).
    pc = await startPipelineCloud(fleetOf('demo', [{ name: 'web', count: 4 }]), { functionEnv: { FLEETRUN_REDISPATCH_AFTER_SECONDS: '0' } });
    const cloud = pc.cloud;
    const replies = await chatThread();
    // Back once FC has given up on dispatch.
    const outage = ossDownUnderDispatch(pc, (dispatch) => dispatch?.status === 'failed', 'FC to give up on dispatch', 30_000);

    // Act 1: the user is told the run started; every attempt to start it fails.
    const runId = await runByChat(pc, 'run uptime on env=demo');
    await outage.over();
    expect(outage.dispatchRecord()).toMatchObject({ status: 'failed' });
    expect(cloud.ecs.calls.RunCommand ?? 0).toBe(0);
    expect(await pc.store.get(runKeys.pendingDispatch(runId))).toBeDefined();

    // Act 2: the schedule tick.
    const tick = (await cloud.fc!.fireTimer('fleetrun-schedule')) as { redispatched: { runId: string; state: string }[] };

    // Assess: started once, summarized, replied once; the pending record is gone, so a second tick does nothing.
    expect(tick.redispatched).toEqual([{ kind: 'run', runId, state: 'dispatched' }]);
    const summary = await summaryOf(pc.store, runId);
    expectExactSummary(summary, expectedStatuses('demo', 4, 0));
    await waitUntil(() => replies.some((r) => r.link), 10_000, 'the final reply');
    expect(replies.filter((r) => r.link)).toHaveLength(1);
    expect(await pc.store.get(runKeys.pendingDispatch(runId))).toBeUndefined();
    const again = (await cloud.fc!.fireTimer('fleetrun-schedule')) as { redispatched: unknown[] };
    expect(again.redispatched).toEqual([]);
    expect(cloud.ecs.calls.RunCommand).toBe(1);
    expectEachExecutedOnce(cloud.ecs);
  }, 90_000);
});
