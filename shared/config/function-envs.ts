/**
 * One environment schema per function, each exactly what that function uses, composed from the
 * pieces in env.ts and chat-env.ts (a variable is declared once). test/unit/function-env.test.ts
 * holds s.yaml to them: every function gets what its schema needs, and nothing it does not know.
 */
import { z } from 'zod';
import { chatFilesVars, chatReceiveVars, chatReplyVars, handOffVars, withFc2Service } from './chat-env.ts';
import { approvalVars, deploymentVars, ecsEndpointVars, ecsVars, fetchVars, finalReplyVars, parseEnvWith, queueVars, reconcileVars, reportLinkVars, sealVars } from './env.ts';

/** HTTP trigger: verifies and answers chat requests, seals secret parameters, hands runs to dispatch, serves report links. */
export const chatopsEnvSchema = withFc2Service(z.object({ ...deploymentVars, ...sealVars, ...reportLinkVars, ...chatReceiveVars, ...chatFilesVars, ...handOffVars, ...approvalVars }));

/** Starts and stops runs (ECS), re-checks the policy, replies. */
export const dispatchEnvSchema = z.object({ ...deploymentVars, ...ecsVars, ...sealVars, ...reportLinkVars, ...chatFilesVars, ...chatReplyVars });

/**
 * task-events: how long an output object that has not landed in OSS when its TaskCompleted event
 * arrives is waited for (relisting, backing off) before its result is read from ECS instead. The
 * order of the two is undocumented (docs/platform-facts.md). 20 s by default, fleetrun's own choice,
 * no cloud limit: a delivery seconds behind its event costs no ECS read (bench/events-vs-polling.ts'
 * sweep read nothing with output objects lognormal around 5 s, p95 10 s), while one that failed
 * (it never lands) still has its result read, with the read's own worst case (a 5 s fetch slot and
 * its 10 s holder grace), well inside the function's 60 s timeout; the wait is cut short by the
 * invocation's deadline in any case. 0 reads at once, as before the wait existed.
 */
export const outputWaitVars = {
  FLEETRUN_OUTPUT_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
};

/** TaskCompleted events → results (ECS reads, OSS outputs, redaction) → the queue. */
export const taskEventsEnvSchema = z.object({ ...deploymentVars, ...ecsVars, ...queueVars, ...sealVars, ...fetchVars, ...outputWaitVars });

/** Results → summaries and reports; a concurrency-limited run's next waves (ECS); progress and final replies. */
export const summarizeEnvSchema = z.object({ ...deploymentVars, ...ecsEndpointVars, ...sealVars, ...reportLinkVars, ...chatReplyVars, ...finalReplyVars });

/** Scheduled jobs, re-dispatch and the reconciler: ECS, the queue, the files, replies. */
export const scheduleEnvSchema = z.object({ ...deploymentVars, ...ecsVars, ...queueVars, ...sealVars, ...reportLinkVars, ...chatFilesVars, ...chatReplyVars, ...reconcileVars, ...finalReplyVars });

/** Each function's schema by its FC function name (s.yaml `functionName`). */
export const FUNCTION_ENV_SCHEMAS = {
  'fleetrun-chatops': chatopsEnvSchema,
  'fleetrun-dispatch': dispatchEnvSchema,
  'fleetrun-task-events': taskEventsEnvSchema,
  'fleetrun-summarize': summarizeEnvSchema,
  'fleetrun-schedule': scheduleEnvSchema,
} as const;
export type FunctionName = keyof typeof FUNCTION_ENV_SCHEMAS;

/** The functions that send chat replies after the request's answer: they need every platform's reply credentials. */
export const REPLY_SENDERS: readonly FunctionName[] = (Object.keys(FUNCTION_ENV_SCHEMAS) as FunctionName[]).filter((name) => 'FLEETRUN_LARK_APP_SECRET' in FUNCTION_ENV_SCHEMAS[name].shape);

type Env = Record<string, string | undefined>;
export const parseChatopsEnv = (env: Env) => parseEnvWith(chatopsEnvSchema, env, 'fleetrun-chatops configuration');
export const parseDispatchEnv = (env: Env) => parseEnvWith(dispatchEnvSchema, env, 'fleetrun-dispatch configuration');
export const parseTaskEventsEnv = (env: Env) => parseEnvWith(taskEventsEnvSchema, env, 'fleetrun-task-events configuration');
export const parseSummarizeEnv = (env: Env) => parseEnvWith(summarizeEnvSchema, env, 'fleetrun-summarize configuration');
export const parseScheduleEnv = (env: Env) => parseEnvWith(scheduleEnvSchema, env, 'fleetrun-schedule configuration');
