/**
 * The jobs step of the schedule function's firing (scheduler-tick.ts): timer-mode jobs due since the
 * last firings become runs, each fire time once (timer-jobs.ts claims it), and native-mode jobs are
 * kept in step as Cloud Assistant Period invocations (native.ts). Both are built from the catalog as
 * a chat run is. A timer job's run, once started, is appended to the audit record (runs/audit.ts)
 * as a chat run is, asked for by `job:<name>`.
 */
import type { CloudAssistant } from '../cloud-assistant/port.ts';
import { resolveTargets } from '../cloud-assistant/targets.ts';
import { findCommand, type Catalog } from '../config/catalog.ts';
import { appendAudit } from '../pipeline/audit-log.ts';
import type { ChatReplier } from '../pipeline/finish-run.ts';
import { startRun } from '../pipeline/start-run.ts';
import { auditedParameters, secretValuesOf } from '../runs/audit.ts';
import { buildRunSpec } from '../runs/build-run-spec.ts';
import { buildCatalogCommand, RunSpecError } from '../runs/command-script.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';
import type { Job } from './jobs-file.ts';
import { syncNativeJobs } from './native.ts';
import { runTimerJobs, scheduledRunId } from './timer-jobs.ts';

export interface JobsTickDeps {
  jobs: Job[];
  catalog: Catalog;
  store: ObjectStore;
  assistant: () => Promise<CloudAssistant>;
  regionId: string;
  outputBucket?: string | undefined;
  sealKey?: string | undefined;
  chat: ChatReplier;
  logger: Logger;
  now: Date;
  lookbackSeconds: number;
}

export async function runJobsTick(deps: JobsTickDeps) {
  const timer = await runTimerJobs({
    jobs: deps.jobs,
    store: deps.store,
    now: deps.now,
    lookbackSeconds: deps.lookbackSeconds,
    logger: deps.logger,
    startJobRun: async (job, fireTime) => {
      // Built as a chat run is built, from the catalog, secrets sealed once, with the job's
      // maxConcurrency and maxErrors: startRun sends the first wave and returns, and the next waves
      // go as results come in (pipeline/fan-out.ts), so the tick waits for nothing.
      const spec = buildRunSpec(
        deps.catalog,
        {
          command: job.command,
          with: job.with,
          timeoutSeconds: job.timeout,
          targets: job.targets,
          maxConcurrency: job.maxConcurrency,
          maxErrors: job.maxErrors,
          requestedBy: { kind: 'schedule', user: `job:${job.name}` },
        },
        deps.sealKey,
      );
      const manifest = await startRun(
        { runId: scheduledRunId(job, fireTime), ...spec },
        { assistant: await deps.assistant(), store: deps.store, regionId: deps.regionId, outputBucket: deps.outputBucket, sealKey: deps.sealKey, chat: deps.chat, logger: deps.logger },
      );
      const declared = findCommand(deps.catalog, job.command).parameters;
      await appendAudit(
        deps,
        {
          version: 1,
          at: new Date().toISOString(),
          who: spec.requestedBy,
          kind: 'run',
          runId: manifest.runId,
          command: job.command,
          targets: job.targets,
          ...auditedParameters(job.with, declared),
          timeoutSeconds: spec.command.timeoutSeconds,
          ...(spec.maxConcurrency !== undefined ? { maxConcurrency: spec.maxConcurrency } : {}),
          ...(spec.maxErrors !== undefined ? { maxErrors: spec.maxErrors } : {}),
          outcome: { result: 'started' },
        },
        secretValuesOf(job.with, declared),
      );
      return { runId: manifest.runId };
    },
  });
  const nativeJobs = deps.jobs.filter((j) => j.mode === 'native');
  const native = nativeJobs.length === 0 ? undefined : await syncNativeJobs({
    jobs: deps.jobs,
    assistant: await deps.assistant(),
    store: deps.store,
    regionId: deps.regionId,
    logger: deps.logger,
    now: deps.now,
    resolveTargets: async (t) => (await resolveTargets(await deps.assistant(), t)).runnable,
    buildCommand: (job) => {
      const entry = findCommand(deps.catalog, job.command);
      // A Period invocation shows its parameters in DescribeInvocations: no secrets in native jobs.
      if (Object.values(entry.parameters).some((p) => p.secret)) throw new RunSpecError(`${job.command} has secret parameters; run it as a timer job, not a native one`);
      const spec = buildCatalogCommand(entry, job.command, job.with, job.timeout ? { timeoutSeconds: job.timeout } : {});
      return { name: `fleetrun-job:${job.name}`, script: spec.script, type: 'RunShellScript', timeoutSeconds: spec.timeoutSeconds, ...(spec.parameters ? { parameters: spec.parameters } : {}) };
    },
  });
  return { timer, native };
}
