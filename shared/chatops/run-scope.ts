/**
 * What a run is about, for the access policy's decisions on `status` and `stop` (policy.ts): its
 * command and its targets as they were asked for. The manifest knows only the instances a run
 * resolved to, and a rule limited by tag cannot be checked against instance ids, so what was
 * asked is recorded next to the run (`runs/<id>/scope.json`, created once by dispatch when it
 * accepts the run, before its manifest: a run refused at dispatch leaves none behind; a retry's
 * is the tags it was judged on). A scheduled run is about its job's command and targets (the jobs file).
 * A run with neither — started before this record existed, or by another tool — is about the
 * instances it resolved to: a rule limited by tag does not cover it (fail closed).
 */
import { z } from 'zod';
import type { Targets } from '../cloud-assistant/targets.ts';
import type { AccessRequest } from '../config/policy.ts';
import { runKeys } from '../runs/keys.ts';
import type { RunManifest } from '../runs/manifest.ts';
import { targetsSchema } from '../runs/run-spec.ts';
import type { Job } from '../schedule/jobs-file.ts';
import type { ObjectStore } from '../store/port.ts';

/** The name a free-form script runs under: reserved, no catalog command can have it (grammar.ts). */
const SCRIPT_COMMAND = 'script';

const runScopeSchema = z.object({ version: z.literal(1), command: z.string().min(1), targets: targetsSchema });

/** A run's command (`script` for a free-form script) and targets, and where they were read from. */
export interface RunScope {
  command: string;
  targets: Targets;
  from: 'request' | 'job' | 'instances';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const scopeKey = (runId: string) => `${runKeys.prefix(runId)}scope.json`;

/** Records what a run was asked for; the first record of a run id stays. */
export async function recordRunScope(store: ObjectStore, runId: string, scope: { command: string; targets: Targets }): Promise<void> {
  const record: z.input<typeof runScopeSchema> = { version: 1, command: scope.command, targets: scope.targets };
  await store.put(scopeKey(runId), JSON.stringify(record), { contentType: 'application/json', forbidOverwrite: true });
}

/** What `manifest`'s run is about: the record chatops wrote, its scheduled job, or else the instances it resolved to. */
export async function runScopeOf(store: ObjectStore, manifest: RunManifest, jobs: readonly Job[]): Promise<RunScope> {
  const raw = await store.get(scopeKey(manifest.runId));
  const recorded = raw ? runScopeSchema.safeParse(parseJson(raw.toString('utf8'))) : undefined;
  // A record that cannot be read, or names another command than the run's, is no record: the run is then judged by its instances.
  if (recorded?.success && recorded.data.command === manifest.command.name) return { command: recorded.data.command, targets: recorded.data.targets, from: 'request' };
  const jobName = manifest.requestedBy.kind === 'schedule' ? /^job:(.+)$/.exec(manifest.requestedBy.user ?? '')?.[1] : undefined;
  const job = jobName === undefined ? undefined : jobs.find((j) => j.name === jobName);
  if (job && job.command === manifest.command.name) return { command: job.command, targets: job.targets, from: 'job' };
  return { command: manifest.command.name, targets: { instanceIds: manifest.targets }, from: 'instances' };
}

/** The policy request for `action` on the run `scope` describes. */
export function accessToRun(action: 'status' | 'stop' | 'retry', scope: RunScope): AccessRequest {
  return scope.command === SCRIPT_COMMAND ? { action, script: true, targets: scope.targets } : { action, command: scope.command, targets: scope.targets };
}
