/**
 * Native-mode jobs: the schedule runs on Cloud Assistant itself, as one Period invocation per job,
 * and fleetrun only keeps that invocation in step with the jobs file.
 *
 * State per job lives at `schedule/native/<job>.json`: a fingerprint of everything that defines the
 * invocation, the command and the InvokeIds. A sync with nothing changed makes no API write. A change
 * makes a new invocation, then stops the old one; a job removed or disabled has its invocation stopped.
 *
 * Two syncs at once (or a sync retried after dying half way) must not leave two Period invocations:
 * - every write's ClientToken derives from (job, generation, fingerprint, call), so syncs applying the
 *   same file send the same tokens and Cloud Assistant answers the second with the first's result;
 * - the generation is claimed with a forbidOverwrite marker, so a sync applying *different* input at
 *   the same moment (it resolved other targets) finds the claim taken and backs off to the next sync;
 * - the generation is part of the token, so going back to an earlier file (A → B → A) makes a fresh
 *   invocation rather than being answered with A's old, stopped one;
 * - replaced invocations are kept in `retiring` until StopInvocation succeeds, so a failed stop is
 *   retried on the next sync instead of leaving an invocation running that nobody tracks.
 */
import { createHash } from 'node:crypto';
import { LIMITS } from '../cloud-assistant/constants.ts';
import { chunk } from '../cloud-assistant/ecs-cloud-assistant.ts';
import { parseFrequency } from '../cloud-assistant/frequency.ts';
import type { CloudAssistant } from '../cloud-assistant/port.ts';
import type { Targets } from '../cloud-assistant/targets.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';
import type { Job } from './jobs-file.ts';

/** What a native job runs: the catalog's command for it, as built by the caller. */
export interface NativeCommandSpec {
  name: string;
  script: string;
  type: 'RunShellScript';
  timeoutSeconds: number;
  parameters?: Record<string, string>;
}

export interface NativeSyncDeps {
  jobs: Job[];
  assistant: CloudAssistant;
  store: ObjectStore;
  regionId: string;
  buildCommand: (job: Job) => NativeCommandSpec;
  /** The instances the invocation should target now (e.g. `resolveTargets(...).runnable`). */
  resolveTargets: (targets: Targets) => Promise<string[]>;
  logger: Logger;
  /** The clock for checking a changed job's Frequency (an `at` time must still be ahead). Default: now. */
  now?: Date;
  /** A generation claim older than this whose sync never finished is taken over. Default {@link STALE_CLAIM_SECONDS}. */
  staleClaimSeconds?: number;
}

/** Long enough that a live sync (a few API calls per 50 instances) has finished or died by then. */
export const STALE_CLAIM_SECONDS = 600;

/** What is stored per native job. */
export interface NativeJobState {
  version: 1;
  job: string;
  /** Bumped on every change; part of every ClientToken. */
  generation: number;
  /** Of the invocation in force; null once the job is removed or disabled (the state stays, as a tombstone, to keep the generation). */
  fingerprint: string | null;
  /** Of the saved command alone: a change of frequency or targets reuses the command. */
  commandFingerprint: string | null;
  commandId: string | null;
  /** The Period invocation, one per batch of ≤ 50 instances. */
  invokeIds: string[];
  instanceIds: string[];
  frequency: string | null;
  /** Invocations replaced or removed whose StopInvocation has not succeeded yet; retried on every sync. */
  retiring: string[];
  updatedAt: string;
}

/** A generation claim: who is making which invocation, and what it made so far (for a takeover). */
interface GenerationClaim {
  version: 1;
  job: string;
  generation: number;
  fingerprint: string;
  claimedAt: string;
  invokeIds: string[];
}

export type NativeSyncAction =
  /** A new Period invocation for a job that had none. */
  | 'created'
  /** A new Period invocation, and the old one stopped. */
  | 'replaced'
  | 'unchanged'
  /** Removed, disabled or without targets: its invocation stopped. */
  | 'stopped'
  /** Another sync is applying different input to this job right now; the next sync converges. */
  | 'conflict'
  | 'failed';

export interface NativeSyncOutcome {
  job: string;
  action: NativeSyncAction;
  /** The invocation in force after the sync. */
  invokeIds: string[];
  /** Invocations this sync stopped. */
  stoppedInvokeIds: string[];
  error?: string;
}

export interface NativeSyncReport {
  outcomes: NativeSyncOutcome[];
}

export const nativeKeys = {
  statePrefix: 'schedule/native/',
  state: (job: string) => `schedule/native/${job}.json`,
  claim: (job: string, generation: number) => `schedule/native-claims/${job}/${String(generation).padStart(10, '0')}.json`,
} as const;

const STATE_KEY = /^schedule\/native\/([a-z0-9][a-z0-9-]*)\.json$/;

function sha256(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

function sortedRecord(r: Record<string, string> | undefined): [string, string][] {
  return Object.entries(r ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Identifies the saved command: what CreateCommand gets. */
export function commandFingerprint(spec: NativeCommandSpec): string {
  const enableParameter = Object.keys(spec.parameters ?? {}).length > 0;
  return sha256(['command', spec.type, spec.name, spec.script, spec.timeoutSeconds, enableParameter]);
}

/**
 * Identifies the invocation: the command, its parameters, the targets as resolved (sorted, so order
 * in the file or the API's answer does not matter), the frequency as written, and the region.
 */
export function invocationFingerprint(spec: NativeCommandSpec, instanceIds: string[], frequency: string, regionId: string): string {
  return sha256(['invocation', commandFingerprint(spec), sortedRecord(spec.parameters), [...new Set(instanceIds)].sort(), frequency, regionId]);
}

/** ≤ 64 printable characters, as the API wants; the same inputs give the same token on every sync. */
function clientToken(job: string, generation: number, fingerprint: string, call: string): string {
  return `fleetrun-${createHash('sha256').update(`${job}\0${generation}\0${fingerprint}\0${call}`).digest('hex').slice(0, 40)}`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  const body = await store.get(key);
  return body ? (JSON.parse(body.toString('utf8')) as T) : undefined;
}

/** Reads a native job's stored state, or undefined when the job never had one. */
export function readNativeState(store: ObjectStore, job: string): Promise<NativeJobState | undefined> {
  return readJson<NativeJobState>(store, nativeKeys.state(job));
}

async function writeState(store: ObjectStore, state: NativeJobState): Promise<void> {
  await store.put(nativeKeys.state(state.job), JSON.stringify(state, null, 2), { contentType: 'application/json' });
}

/**
 * Keeps one Cloud Assistant Period invocation per enabled native-mode job in step with the jobs
 * file, and stops those of jobs removed, disabled or switched to timer mode. Each job is handled on
 * its own: one that fails is logged and reported, and the others go on.
 */
export async function syncNativeJobs(deps: NativeSyncDeps): Promise<NativeSyncReport> {
  const wanted = deps.jobs.filter((j) => j.enabled && j.mode === 'native');
  const wantedNames = new Set(wanted.map((j) => j.name));
  const outcomes: NativeSyncOutcome[] = [];

  for (const job of wanted) {
    try {
      outcomes.push(await syncJob(job, deps));
    } catch (e) {
      deps.logger.error('schedule: native job sync failed', { job: job.name, error: errorText(e) });
      outcomes.push({ job: job.name, action: 'failed', invokeIds: [], stoppedInvokeIds: [], error: errorText(e) });
    }
  }

  // Jobs with state but no longer wanted: stop what they run.
  for await (const o of deps.store.list(nativeKeys.statePrefix)) {
    const name = STATE_KEY.exec(o.key)?.[1];
    if (name === undefined || wantedNames.has(name)) continue;
    try {
      const outcome = await retireJob(name, deps);
      if (outcome) outcomes.push(outcome);
    } catch (e) {
      deps.logger.error('schedule: stopping a removed native job failed', { job: name, error: errorText(e) });
      outcomes.push({ job: name, action: 'failed', invokeIds: [], stoppedInvokeIds: [], error: errorText(e) });
    }
  }
  return { outcomes };
}

/** Stops the given invocations; returns the ones stopped (or already gone) and the ones still to stop. */
async function stopAll(invokeIds: string[], deps: NativeSyncDeps, job: string): Promise<{ stopped: string[]; left: string[] }> {
  const stopped: string[] = [];
  const left: string[] = [];
  for (const invokeId of [...new Set(invokeIds)]) {
    try {
      await deps.assistant.stopInvocation({ RegionId: deps.regionId, InvokeId: invokeId });
      stopped.push(invokeId);
    } catch (e) {
      // Deleted or expired by the service: nothing left to stop.
      if (codeOf(e) === 'InvalidInvokeId.NotFound') {
        stopped.push(invokeId);
        continue;
      }
      deps.logger.warn('schedule: StopInvocation failed; retried on the next sync', { job, invokeId, error: errorText(e) });
      left.push(invokeId);
    }
  }
  return { stopped, left };
}

async function retireJob(name: string, deps: NativeSyncDeps): Promise<NativeSyncOutcome | undefined> {
  const state = await readNativeState(deps.store, name);
  if (!state) return undefined;
  const toStop = [...new Set([...state.invokeIds, ...state.retiring])];
  // A tombstone with nothing left to stop: nothing to do, nothing to report.
  if (toStop.length === 0 && state.fingerprint === null) return undefined;
  const { stopped, left } = await stopAll(toStop, deps, name);
  await writeState(deps.store, {
    ...state,
    fingerprint: null,
    commandFingerprint: null,
    commandId: null,
    invokeIds: [],
    instanceIds: [],
    frequency: null,
    retiring: left,
    updatedAt: new Date().toISOString(),
  });
  deps.logger.info('schedule: stopped a removed or disabled native job', { job: name, stopped, left });
  return { job: name, action: 'stopped', invokeIds: [], stoppedInvokeIds: stopped };
}

async function syncJob(job: Job, deps: NativeSyncDeps): Promise<NativeSyncOutcome> {
  const state = await readNativeState(deps.store, job.name);
  const spec = deps.buildCommand(job);
  const instanceIds = [...new Set(await deps.resolveTargets(job.targets))].sort();
  const fingerprint = invocationFingerprint(spec, instanceIds, job.frequency, deps.regionId);

  if (state && state.fingerprint === fingerprint) {
    if (state.retiring.length === 0) return { job: job.name, action: 'unchanged', invokeIds: state.invokeIds, stoppedInvokeIds: [] };
    const { stopped, left } = await stopAll(state.retiring, deps, job.name);
    await writeState(deps.store, { ...state, retiring: left, updatedAt: new Date().toISOString() });
    return { job: job.name, action: 'unchanged', invokeIds: state.invokeIds, stoppedInvokeIds: stopped };
  }

  // Checked now, not only at load: an `at` time may have passed since, and the API would refuse it half way.
  if (instanceIds.length > 0) parseFrequency(job.frequency, { now: deps.now ?? new Date(), timeoutSeconds: spec.timeoutSeconds });

  const claimed = await claimGeneration(job.name, (state?.generation ?? 0) + 1, fingerprint, deps);
  if (claimed.kind === 'conflict') {
    deps.logger.warn('schedule: another sync is changing this native job; leaving it to the next sync', { job: job.name, generation: claimed.generation });
    return { job: job.name, action: 'conflict', invokeIds: state?.invokeIds ?? [], stoppedInvokeIds: [] };
  }
  const { generation } = claimed;

  const cmdFingerprint = commandFingerprint(spec);
  let commandId = state?.commandFingerprint === cmdFingerprint ? state.commandId : null;
  const invokeIds: string[] = [];
  for (const [n, batch] of chunk(instanceIds, LIMITS.invokeCommandInstances).entries()) {
    const invoke = (id: string) =>
      deps.assistant.invokeCommand({
        RegionId: deps.regionId,
        CommandId: id,
        InstanceId: batch,
        RepeatMode: 'Period',
        Frequency: job.frequency,
        Timeout: spec.timeoutSeconds,
        ...(spec.parameters && Object.keys(spec.parameters).length > 0 ? { Parameters: spec.parameters } : {}),
        ClientToken: clientToken(job.name, generation, fingerprint, `invoke-${n}`),
      });
    let result: { invokeId: string };
    if (commandId === null) {
      commandId = await createCommand(job.name, spec, generation, fingerprint, deps);
      result = await invoke(commandId);
    } else {
      try {
        result = await invoke(commandId);
      } catch (e) {
        // A reused command someone deleted: save it again and go on.
        if (codeOf(e) !== 'InvalidCmdId.NotFound' || n > 0) throw e;
        commandId = await createCommand(job.name, spec, generation, fingerprint, deps);
        result = await invoke(commandId);
      }
    }
    invokeIds.push(result.invokeId);
    // Recorded as it goes, so a sync taking over an abandoned claim can stop what this one made.
    await deps.store.put(nativeKeys.claim(job.name, generation), JSON.stringify({ ...claimed.claim, invokeIds } satisfies GenerationClaim), {
      contentType: 'application/json',
    });
  }

  const fresh = new Set(invokeIds);
  const retiring = [...new Set([...(state?.retiring ?? []), ...(state?.invokeIds ?? []), ...claimed.abandoned])].filter((id) => !fresh.has(id));
  const next: NativeJobState = {
    version: 1,
    job: job.name,
    generation,
    fingerprint,
    commandFingerprint: cmdFingerprint,
    commandId,
    invokeIds,
    instanceIds,
    frequency: job.frequency,
    retiring,
    updatedAt: new Date().toISOString(),
  };
  // A slower sync that co-owned an older generation must not put the state back behind a newer one.
  const latest = await readNativeState(deps.store, job.name);
  if (latest && latest.generation > generation) {
    return { job: job.name, action: 'conflict', invokeIds: latest.invokeIds, stoppedInvokeIds: [] };
  }
  // Written before stopping the old invocation: if the stop fails, `retiring` keeps it for the next sync.
  await writeState(deps.store, next);
  const { stopped, left } = await stopAll(retiring, deps, job.name);
  if (stopped.length > 0) await writeState(deps.store, { ...next, retiring: left, updatedAt: new Date().toISOString() });

  const action: NativeSyncAction = invokeIds.length === 0 ? 'stopped' : state?.invokeIds.length ? 'replaced' : 'created';
  deps.logger.info('schedule: native job in step', { job: job.name, action, generation, commandId, invokeIds, stopped, instances: instanceIds.length });
  return { job: job.name, action, invokeIds, stoppedInvokeIds: stopped };
}

async function createCommand(job: string, spec: NativeCommandSpec, generation: number, fingerprint: string, deps: NativeSyncDeps): Promise<string> {
  const { commandId } = await deps.assistant.createCommand({
    RegionId: deps.regionId,
    Name: spec.name,
    Description: `fleetrun scheduled job ${job}`,
    Type: spec.type,
    CommandContent: Buffer.from(spec.script, 'utf8').toString('base64'),
    ContentEncoding: 'Base64',
    Timeout: spec.timeoutSeconds,
    EnableParameter: Object.keys(spec.parameters ?? {}).length > 0,
    ClientToken: clientToken(job, generation, fingerprint, 'command'),
  });
  return commandId;
}

type ClaimResult =
  | { kind: 'owned'; generation: number; claim: GenerationClaim; abandoned: string[] }
  | { kind: 'conflict'; generation: number };

/**
 * Claims the generation for this fingerprint. A claim with the same fingerprint is shared (same
 * tokens, same invocations). One with another fingerprint is another sync's: a conflict while it is
 * fresh; once stale, its sync is taken to have died, what it recorded is stopped, and the next
 * generation is claimed instead.
 */
async function claimGeneration(job: string, generation: number, fingerprint: string, deps: NativeSyncDeps): Promise<ClaimResult> {
  const staleMs = (deps.staleClaimSeconds ?? STALE_CLAIM_SECONDS) * 1000;
  const abandoned: string[] = [];
  // A few abandoned claims in a row would mean something is badly wrong; stop there rather than loop.
  for (let g = generation; g < generation + 3; g++) {
    const claim: GenerationClaim = { version: 1, job, generation: g, fingerprint, claimedAt: new Date().toISOString(), invokeIds: [] };
    const key = nativeKeys.claim(job, g);
    if ((await deps.store.put(key, JSON.stringify(claim), { contentType: 'application/json', forbidOverwrite: true })) === 'written') {
      return { kind: 'owned', generation: g, claim, abandoned };
    }
    const existing = await readJson<GenerationClaim>(deps.store, key);
    if (!existing) continue;
    if (existing.fingerprint === fingerprint) return { kind: 'owned', generation: g, claim: existing, abandoned };
    if (Date.now() - Date.parse(existing.claimedAt) < staleMs) return { kind: 'conflict', generation: g };
    abandoned.push(...existing.invokeIds);
  }
  return { kind: 'conflict', generation };
}
