/**
 * Issue 14, item 3, as it was found: a chat run with `concurrency 10` on 50 instances, and an
 * unrelated run of 10 beside it, both started while task-events and summarize are dead for 20 s —
 * their processes killed as fast as FC starts them, so the bus gives up on every event of the
 * first wave and of the other run ("gave up after 3 attempts"). Nothing is asked of anyone: the
 * schedule function fires on its own, as its timer would, and no one sends `stop`.
 *
 * Before, the first run's InvokeIds reached its manifest only when its fan-out ended, dispatch
 * held its invocation open waiting for completions that never came (until FC's 600 s timeout, and
 * again on FC's retry), and the reconciler had nothing to read: the run never moved. Now each call
 * is recorded as it is sent, dispatch returns after the first wave, and the reconciler reads the
 * lost results of the first wave from the recorded call; summarize stores them and sends the next
 * wave, and so on. Both runs end exact — every instance once with its status, the right overall
 * status — each with its "sent to" notice before its one final reply, never more than 10 of the
 * first run's instances running at once, and nothing executed twice.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import type { InstanceStatus } from '../../shared/cloud-assistant/statuses.ts';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { startChatThread, type ChatThread, type ThreadReply } from '../../local/cli/chat-thread.ts';
import { fleetOf, startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { expectEachExecutedOnce, expectExactSummary, summaryOf } from '../support/run-checks.ts';
import { DEAD_LETTERS, queued } from '../support/fault-runs.ts';

const WAVE = 50;
const SIDE = 10;
const CONCURRENCY = 10;
const OUTAGE_MS = 20_000;
const TIMEOUT_SECONDS = 10;
/** Every seventh instance of the big run fails (exit 3), so its status is PartialFailed; the other run all succeeds. */
const failsAt = (n: number) => n % 7 === 3;

const CATALOG = `commands:
  wave-check:
    description: Says it is fine, or fails on the instances told to
    timeout: ${TIMEOUT_SECONDS}
    script: echo checked
`;
const POLICY = `rules:
  - name: wave-ops
    users: ['webhook:wave-ops']
    commands: ['*']
    targets: { tags: { env: [wave, side] } }
    maxTargets: 100
`;

let pc: PipelineCloud;
let dir: string;
let thread: ChatThread;
const replies: ThreadReply[] = [];

/** Two groups of instances, each with its own env tag: fleetOf makes one group per prefix. */
function fleet(): string {
  const side = fleetOf('side', [{ name: 'side', count: SIDE }]).split('\n').slice(1).join('\n');
  return `${fleetOf('wave', [{ name: 'web', count: WAVE }])}${side}`;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-waves-'));
  await writeFile(path.join(dir, 'catalog.yaml'), CATALOG);
  await writeFile(path.join(dir, 'policy.yaml'), POLICY);
  thread = await startChatThread(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, (r) => replies.push(r));
  pc = await startPipelineCloud(fleet(), {
    chat: { FLEETRUN_CATALOG_FILE: path.join(dir, 'catalog.yaml'), FLEETRUN_POLICY_FILE: path.join(dir, 'policy.yaml') },
    // Results due their timeout plus 5 s after their call went out.
    functionEnv: { FLEETRUN_RECONCILE_GRACE_SECONDS: '5' },
    queueVisibilitySeconds: 2,
    // Synthetic agents: no process per instance; each run takes 300 ms.
    ecs: { synthetic: ({ instanceId }) => ({ durationMs: 300, exitCode: instanceId.startsWith('i-wave') && failsAt(Number(instanceId.slice(-6))) ? 3 : 0, output: `checked ${instanceId}\n` }) },
  });
}, 60_000);

afterAll(async () => {
  await pc?.close();
  await thread?.close();
  await rm(dir, { recursive: true, force: true });
});

async function say(text: string): Promise<string> {
  const url = pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
  const body = JSON.stringify({ user: 'wave-ops', text, callbackUrl: thread.url });
  const res = await fetch(`${url}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) } });
  expect(res.status).toBe(200);
  const runId = /Run (r-[a-z0-9-]+) started/.exec(((await res.json()) as { message: string }).message)?.[1];
  expect(runId).toBeDefined();
  return runId!;
}

function statuses(prefix: string, count: number, failing: (n: number) => boolean): Map<string, InstanceStatus> {
  return new Map(Array.from({ length: count }, (_, n) => [`i-${prefix}${String(n).padStart(6, '0')}`, failing(n) ? 'Failed' : 'Success'] as const));
}

/** The most of these instances whose scripts ran at the same moment. */
function peakRunning(instances: ReadonlySet<string>): number {
  const edges = pc.cloud.ecs.agents.executionLog
    .filter((e) => instances.has(e.instanceId))
    .flatMap((e) => [[e.startedAt.getTime(), 1] as const, [(e.finishedAt ?? new Date()).getTime(), -1] as const])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (running += d));
  return peak;
}

describe('events lost for 20 s under a concurrency-limited run and another beside it', () => {
  it('both runs end exact, each with one final reply after its notice, without anyone stepping in', async () => {
    // Prepare: task-events and summarize dead for 20 s, killed as fast as FC starts them.
    const fc = pc.cloud.fc!;
    const dead = [fc.functions.get('fleetrun-task-events')!, fc.functions.get('fleetrun-summarize')!];
    const outageEnds = Date.now() + OUTAGE_MS;
    const killer = setInterval(() => {
      if (Date.now() < outageEnds) for (const f of dead) f.kill();
    }, 20);
    // The schedule function's timer, every 3 s instead of every minute; each firing goes on by itself.
    let ticking = true;
    const ticks = (async () => {
      while (ticking) {
        await fc.fireTimer('fleetrun-schedule').catch(() => {});
        await new Promise((r) => setTimeout(r, 3_000));
      }
    })();

    try {
      // Act: both runs asked for from chat, as the were.
      const waveRun = await say(`run wave-check on env=wave concurrency ${CONCURRENCY}`);
      const sideRun = await say('run wave-check on env=side');

      // Assess: the outage cost every event of the first wave and of the other run.
      const firstWave = new Set(Array.from({ length: CONCURRENCY }, (_, n) => `i-wave${String(n).padStart(6, '0')}`));
      const sideIds = new Set(statuses('side', SIDE, () => false).keys());
      await waitUntil(() => Date.now() >= outageEnds, OUTAGE_MS + 1_000, 'the outage to end');
      const lost = new Set(pc.cloud.bus.deadLetters.map((d) => (d.event as { data: { instanceId: string } }).data.instanceId));
      expect([...firstWave].filter((id) => !lost.has(id))).toEqual([]);
      expect([...sideIds].filter((id) => !lost.has(id))).toEqual([]);
      // Dispatch never waited: both hand-offs ended long before the outage did.
      const dispatches = fc.asyncInvocations.list().filter((r) => r.functionName === 'fleetrun-dispatch');
      expect(dispatches.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
      expect(dispatches.every((r) => Date.parse(r.finishedAt!) - Date.parse(r.startedAt!) < 10_000)).toBe(true);

      // Both end exact, with nobody asking for anything.
      const wave = await summaryOf(pc.store, waveRun, 120_000);
      expectExactSummary(wave, statuses('wave', WAVE, failsAt));
      expect(wave.status).toBe('PartialFailed');
      const side = await summaryOf(pc.store, sideRun, 60_000);
      expectExactSummary(side, statuses('side', SIDE, () => false));
      expect(side.status).toBe('Success');

      // The big run went out in waves of 10, never more than 10 running at once, each instance once.
      expect(pc.cloud.ecs.calls.RunCommand).toBe(WAVE / CONCURRENCY + 1);
      expect(peakRunning(new Set(statuses('wave', WAVE, failsAt).keys()))).toBeLessThanOrEqual(CONCURRENCY);
      expectEachExecutedOnce(pc.cloud.ecs);
      expect(pc.cloud.ecs.agents.executionLog).toHaveLength(WAVE + SIDE);

      // Each run: its notice, then one final reply — never the other way round.
      await waitUntil(() => replies.filter((r) => r.link).length === 2, 15_000, 'both final replies');
      const failed = Array.from({ length: WAVE }, (_, n) => n).filter(failsAt).length;
      for (const [runId, sent, calls, head] of [
        [waveRun, WAVE, WAVE / CONCURRENCY, `wave-check ${waveRun}: PartialFailed — ${WAVE - failed} succeeded, ${failed} failed, 0 stopped, 0 not run`],
        [sideRun, SIDE, 1, `wave-check ${sideRun}: Success — 10 succeeded, 0 failed, 0 stopped, 0 not run`],
      ] as const) {
        const mine = replies.filter((r) => r.message.includes(runId));
        const notice = mine.findIndex((r) => r.message === `wave-check ${runId}: sent to ${sent} instances in ${calls} call${calls === 1 ? '' : 's'}.`);
        const finals = mine.filter((r) => r.link);
        expect(notice, `the notice of ${runId}`).toBeGreaterThanOrEqual(0);
        expect(finals).toHaveLength(1);
        expect(finals[0]!.message.split('\n')[0]).toBe(head);
        expect(notice).toBeLessThan(mine.indexOf(finals[0]!));
      }
      expect(await queued(pc, DEAD_LETTERS)).toBe(0);
    } finally {
      clearInterval(killer);
      ticking = false;
      await ticks;
    }
  }, 180_000);
});
