/**
 * The schedule function's firing as a use case: the order of its four steps, what each is given,
 * what a step's failure does, and the firing's time. The steps are recording stand-ins, and the
 * store an in-memory ObjectStore; the steps themselves run against the local cloud in
 * test/e2e/scheduled-job.test.ts and the fault suite.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CloudAssistant } from '../../shared/cloud-assistant/port.ts';
import type { ChatSender } from '../../shared/chat/types.ts';
import { loadCatalog } from '../../shared/config/catalog.ts';
import { loadPolicy } from '../../shared/config/policy.ts';
import { NO_CHAT, type ChatReplier } from '../../shared/pipeline/finish-run.ts';
import type { ResultQueue } from '../../shared/queue/port.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { parseJobsFile } from '../../shared/schedule/jobs-file.ts';
import type { NativeSyncReport } from '../../shared/schedule/native.ts';
import { firingTime, REDISPATCH_PER_FIRING, schedulerTick, STEP_ENDS, StepOutOfTimeError, type SchedulerSteps, type SchedulerTickDeps } from '../../shared/schedule/scheduler-tick.ts';
import { DEFAULT_LOOKBACK_SECONDS } from '../../shared/schedule/timer-jobs.ts';
import { MemoryStore } from '../support/memory-store.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIRED_AT = new Date('2026-11-23T10:00:00Z');

const JOBS = parseJobsFile('jobs:\n  - { name: nightly, command: uptime, targets: { tags: { env: t } }, frequency: rate(1h) }\n', 'jobs.yaml', { now: FIRED_AT });

const unused = (what: string) => () => {
  throw new Error(`${what} was used`);
};

async function harness() {
  const lines: string[] = [];
  const deps: SchedulerTickDeps = {
    store: new MemoryStore(),
    queue: { send: unused('the queue') } satisfies ResultQueue,
    assistant: () => Promise.reject(new Error('the assistant was used')),
    sender: { send: unused('the sender') } satisfies ChatSender,
    chat: { reply: unused('the replier') } satisfies ChatReplier,
    logger: createLogger({ sink: (line) => lines.push(line) }),
    catalog: await loadCatalog(path.join(ROOT, 'config/catalog.yaml')),
    policy: await loadPolicy(path.join(ROOT, 'config/policy.yaml')),
    jobs: JOBS,
    settings: {
      FLEETRUN_REGION: 'cn-hangzhou',
      FLEETRUN_OUTPUT_BUCKET: 'outputs',
      FLEETRUN_SEAL_KEY: 'a-seal-key-of-16-or-more',
      FLEETRUN_REDISPATCH_AFTER_SECONDS: 600,
      FLEETRUN_REPLY_TAKEOVER_SECONDS: 900,
      FLEETRUN_RECONCILE_GRACE_SECONDS: 120,
      FLEETRUN_RECONCILE_MAX_CALLS: 50,
    },
  };
  const calls: { step: keyof SchedulerSteps; input: unknown }[] = [];
  const reconciled = { runsChecked: 2, runsRepaired: ['r-1'], resultsFed: 3, calls: 1, deferred: [] };
  const steps: SchedulerSteps = {
    jobs: async (input) => {
      calls.push({ step: 'jobs', input });
      return { timer: { fired: [{ job: 'nightly', fireTime: FIRED_AT, runId: 'r-nightly' }], skipped: [] }, native: undefined };
    },
    redispatch: async (input) => {
      calls.push({ step: 'redispatch', input });
      return [{ kind: 'run', runId: 'r-handed', state: 'dispatched' }];
    },
    approvals: async (input) => {
      calls.push({ step: 'approvals', input });
      return [{ runId: 'r-held', state: 'expired' }];
    },
    reconcile: async (input) => {
      calls.push({ step: 'reconcile', input });
      return reconciled;
    },
  };
  return { deps, steps, calls, lines, reconciled };
}

describe('Function: schedulerTick', () => {
  it('runs the scheduled jobs, then the stale hand-offs, then the expired approvals, then the reconciler, each given what it needs', async () => {
    const h = await harness();
    const outcome = await schedulerTick(h.deps, FIRED_AT, h.steps);
    expect(h.calls.map((c) => c.step)).toEqual(['jobs', 'redispatch', 'approvals', 'reconcile']);
    const d = h.deps;
    const where = { regionId: 'cn-hangzhou', sealKey: 'a-seal-key-of-16-or-more' };
    // Scheduled runs have no chat thread; the jobs due are those of the lookback before the firing.
    expect(h.calls[0]!.input).toEqual({
      jobs: d.jobs, catalog: d.catalog, store: d.store, assistant: d.assistant, ...where, outputBucket: 'outputs',
      chat: NO_CHAT, logger: d.logger, now: FIRED_AT, lookbackSeconds: DEFAULT_LOOKBACK_SECONDS,
    });
    expect((h.calls[0]!.input as { chat: unknown }).chat).toBe(NO_CHAT);
    // A hand-off is stale by the firing's time, and replies in its thread.
    expect(h.calls[1]!.input).toEqual({
      store: d.store, assistant: d.assistant, ...where, outputBucket: 'outputs', policy: d.policy, sender: d.sender, chat: d.chat,
      logger: d.logger, now: FIRED_AT, afterSeconds: 600, max: REDISPATCH_PER_FIRING,
    });
    // An approval expires by the firing's time, and its thread is told through the sender.
    expect(h.calls[2]!.input).toEqual({ store: d.store, sender: d.sender, logger: d.logger, now: FIRED_AT });
    // The reconciler reads run deadlines by the clock: it is given no time.
    expect(h.calls[3]!.input).toEqual({
      store: d.store, queue: d.queue, assistant: d.assistant, chat: d.chat, replyTakeoverSeconds: 900, logger: d.logger, ...where,
      graceSeconds: 120, maxCalls: 50,
    });
    expect(outcome).toEqual({
      ...h.reconciled,
      redispatched: [{ kind: 'run', runId: 'r-handed', state: 'dispatched' }],
      approvals: [{ runId: 'r-held', state: 'expired' }],
      jobs: { fired: [{ job: 'nightly', fireTime: FIRED_AT, runId: 'r-nightly' }], skipped: [], native: [] },
    });
    expect(h.lines.map((l) => JSON.parse(l) as { message: string; runsRepaired?: string[] })).toEqual([expect.objectContaining({ message: 'reconciled', runsRepaired: ['r-1'] })]);
  });

  it('hands over native jobs\' outcomes when there are any', async () => {
    const h = await harness();
    const native: NativeSyncReport = { outcomes: [{ job: 'on-agent', action: 'created', invokeIds: ['t-1'], stoppedInvokeIds: [] }] };
    const steps: SchedulerSteps = { ...h.steps, jobs: async () => ({ timer: { fired: [], skipped: [] }, native }) };
    expect((await schedulerTick(h.deps, FIRED_AT, steps)).jobs.native).toEqual(native.outcomes);
  });

  it.each(['jobs', 'redispatch', 'approvals', 'reconcile'] as const)('runs every step when one throws (%s) — the reconciler is the safety net — then fails the firing with that error, logged', async (failing) => {
    const h = await harness();
    const broken = new Error(`${failing} failed`);
    const steps: SchedulerSteps = { ...h.steps, [failing]: async (input: unknown) => (h.calls.push({ step: failing, input }), Promise.reject(broken)) };
    await expect(schedulerTick(h.deps, FIRED_AT, steps)).rejects.toBe(broken);
    expect(h.calls.map((c) => c.step)).toEqual(['jobs', 'redispatch', 'approvals', 'reconcile']);
    expect(h.lines.map((l) => JSON.parse(l) as { message: string; step?: string; error?: string })).toContainEqual(expect.objectContaining({ message: 'schedule step failed; the next steps still run', step: failing, error: `${failing} failed` }));
  });

  it.each(['jobs', 'redispatch', 'approvals'] as const)('gives each step its own time: a %s step that never ends is left behind at its end, and the reconciler still gets its share before the deadline', async (stuck) => {
    const h = await harness();
    const FIRING_MS = 1_000;
    const startedAt = new Map<string, number>();
    const began = Date.now();
    const watched = Object.fromEntries(
      (Object.keys(h.steps) as (keyof SchedulerSteps)[]).map((name) => [
        name,
        (input: never) => {
          startedAt.set(name, Date.now() - began);
          return name === stuck ? new Promise(() => {}) : (h.steps[name] as (i: never) => Promise<unknown>)(input);
        },
      ]),
    ) as unknown as SchedulerSteps;
    const failed = await schedulerTick({ ...h.deps, deadline: new Date(began + FIRING_MS) }, FIRED_AT, watched).catch((e: unknown) => e);
    const tookMs = Date.now() - began;
    expect(failed).toBeInstanceOf(StepOutOfTimeError);
    expect([...startedAt.keys()]).toEqual(['jobs', 'redispatch', 'approvals', 'reconcile']);
    // The step after the stuck one starts when the stuck one's time is up, not later; the firing ends before its deadline.
    const next = ({ jobs: 'redispatch', redispatch: 'approvals', approvals: 'reconcile' } as const)[stuck];
    expect(startedAt.get(next)).toBeGreaterThanOrEqual(STEP_ENDS[stuck] * FIRING_MS - 20);
    expect(startedAt.get(next)).toBeLessThan(STEP_ENDS[stuck] * FIRING_MS + 200);
    expect(tookMs).toBeLessThan(FIRING_MS);
    expect(h.calls.map((c) => c.step)).toContain('reconcile');
    expect(h.lines.map((l) => JSON.parse(l) as { message: string; step?: string })).toContainEqual(expect.objectContaining({ message: 'schedule step ran out of its time; the next steps still run', step: stuck }));
  });

  it('a step that runs past its own end but within the firing is not cut short when no deadline is known', async () => {
    const h = await harness();
    const slow: SchedulerSteps = { ...h.steps, redispatch: async (input) => (await new Promise((r) => setTimeout(r, 300)), h.steps.redispatch(input)) };
    const outcome = await schedulerTick(h.deps, FIRED_AT, slow);
    expect(outcome.redispatched).toEqual([{ kind: 'run', runId: 'r-handed', state: 'dispatched' }]);
  });

  it('an idle firing with the real steps reads the bucket and nothing else: no ECS call, no message, no reply', async () => {
    const h = await harness();
    const outcome = await schedulerTick({ ...h.deps, jobs: [] }, FIRED_AT);
    expect(outcome).toEqual({ runsChecked: 0, runsRepaired: [], resultsFed: 0, calls: 0, deferred: [], redispatched: [], approvals: [], jobs: { fired: [], skipped: [], native: [] } });
  });
});

describe('Function: firingTime', () => {
  const tick = (triggerTime: string) => ({ triggerTime, triggerName: 'every-minute', payload: { task: 'reconcile' } });

  it('is the trigger\'s time, not the time the instance got to it', () => {
    const lines: string[] = [];
    expect(firingTime(tick('2026-11-23T10:00:00Z'), createLogger({ sink: (l) => lines.push(l) }), () => new Date('2026-11-23T11:00:00Z'))).toEqual(FIRED_AT);
    expect(lines).toEqual([]);
  });

  it('falls back to the invocation time, with a warning, when triggerTime is not a time', () => {
    const lines: string[] = [];
    const now = new Date('2026-11-23T11:00:00Z');
    expect(firingTime(tick('not a time'), createLogger({ sink: (l) => lines.push(l) }), () => now)).toBe(now);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'warn', message: 'timer event has no readable triggerTime; using the invocation time', triggerTime: 'not a time', triggerName: 'every-minute' }),
    ]);
  });
});
