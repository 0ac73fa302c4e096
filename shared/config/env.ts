/**
 * The functions' configuration, from their environment (s.yaml `environmentVariables`; the local
 * host sets the same names). Each function parses its own schema (function-envs.ts), made of the
 * pieces below, so a variable is declared once and each function requires exactly what it uses.
 * Parsed once per cold start with one clear message on a mistake; no other code reads process.env.
 */
import { z } from 'zod';
import { DEFAULT_APPROVAL_TTL_SECONDS } from './approval-fields.ts';

/** How long a final reply's claim stays its holder's before another summarizer or the reconciler takes it over. */
export const DEFAULT_REPLY_TAKEOVER_SECONDS = 300;
/** How long the report link in a chat reply stays valid (FLEETRUN_REPORT_LINK_DAYS). */
export const DEFAULT_REPORT_LINK_DAYS = 7;

/** Unset and empty both mean "not configured" (s.yaml may render an unset variable as ''). */
const optionalText = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().trim().min(1).optional());
/** `true`/`false` (or 1/0); unset or empty is the default. */
const flag = (fallback: boolean) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.enum(['true', 'false', '1', '0']).default(fallback ? 'true' : 'false').transform((v) => v === 'true' || v === '1'));

/** Every function: where it runs and the runs bucket (OSS). */
export const deploymentVars = {
  FLEETRUN_REGION: z.string().min(1).default('cn-hangzhou'),
  FLEETRUN_ACCOUNT_ID: z.string().min(1).default('1234567890123456'),
  /** Bucket of manifests, results and summaries. */
  FLEETRUN_BUCKET: z.string().min(3),
  /** Overrides the OSS endpoint, scheme included (the local cloud's `http://127.0.0.1:PORT`); endpoints.ts when unset. */
  FLEETRUN_OSS_ENDPOINT: optionalText,
  /** The in-region endpoint `oss-<region>-internal.aliyuncs.com` (default); `false` for a function outside the bucket's region. */
  FLEETRUN_OSS_INTERNAL: flag(true),
};

/** Functions that call Cloud Assistant: where its API is. */
export const ecsEndpointVars = {
  /** Overrides for the local cloud: a host (or URL) and its protocol; the regional endpoint over HTTPS when unset. */
  FLEETRUN_ECS_ENDPOINT: optionalText,
  FLEETRUN_ECS_PROTOCOL: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['http', 'https']).optional()),
};

/** Functions that start runs or read their results from Cloud Assistant. */
export const ecsVars = {
  /** Bucket Cloud Assistant delivers outputs to (OssOutputDelivery); without it outputs are fetched. */
  FLEETRUN_OUTPUT_BUCKET: optionalText,
  ...ecsEndpointVars,
};

/** Functions that send result messages to the queue (MNS). */
export const queueVars = {
  FLEETRUN_RESULT_QUEUE: z.string().min(1),
  /** Overrides the MNS endpoint, scheme included; endpoints.ts when unset. */
  FLEETRUN_MNS_ENDPOINT: optionalText,
  /** The in-region endpoint `<account>.mns.<region>-internal.aliyuncs.com` (default); `false` for the public one. */
  FLEETRUN_MNS_INTERNAL: flag(true),
};

/** Functions that seal or open secret parameter values, or sign report links. */
export const sealVars = {
  /** Key that seals secret parameter values in manifests (seal.ts). */
  FLEETRUN_SEAL_KEY: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16).optional()),
};

/** task-events: how reads of a command's results are shared. */
export const fetchVars = {
  /** How long task-events holds the first request for a command's results so others share its call. */
  FLEETRUN_FETCH_WINDOW_MS: z.coerce.number().int().min(0).max(5000).default(100),
  /** task-events never reads a command's results more often than a poller with this interval would have. */
  FLEETRUN_FETCH_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
};

/** chatops: runs waiting for approval (chatops/approvals.ts) expire unstarted after this long. */
export const approvalVars = {
  FLEETRUN_APPROVAL_TTL_SECONDS: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).default(DEFAULT_APPROVAL_TTL_SECONDS)),
};

/** schedule: the reconciler. */
export const reconcileVars = {
  FLEETRUN_RECONCILE_GRACE_SECONDS: z.coerce.number().int().min(0).default(120),
  /** A chat run handed to dispatch and still not started after this long is dispatched again by the schedule tick. */
  FLEETRUN_REDISPATCH_AFTER_SECONDS: z.coerce.number().int().min(0).default(600),
  FLEETRUN_RECONCILE_MAX_CALLS: z.coerce.number().int().min(1).default(50),
};

/** Functions that send a run's final reply. */
export const finalReplyVars = {
  /** A final reply claimed and not confirmed for this long is sent by the next summarizer or reconciler tick. */
  FLEETRUN_REPLY_TAKEOVER_SECONDS: z.coerce.number().int().min(1).default(DEFAULT_REPLY_TAKEOVER_SECONDS),
};

/** Functions whose replies link a run's report. */
export const reportLinkVars = {
  /**
   * chatops' public URL (its HTTP trigger, `https://<function>-<random>.<region>.fcapp.run` on FC 3.0,
   * known only after the first deploy): replies link reports to `<this>/reports/<run>`. Unset, they
   * carry a presigned OSS URL, which dies with the function role's STS token.
   */
  FLEETRUN_PUBLIC_URL: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.url({ protocol: /^https?$/ }).optional()),
  /**
   * How long a report link stays valid, in days. The bounds are fleetrun's own choice, not a
   * platform limit: at least a day, so a reply read the next morning still opens; at most a year,
   * so a link pasted somewhere is not a permanent key to the report.
   */
  FLEETRUN_REPORT_LINK_DAYS: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).max(365).default(DEFAULT_REPORT_LINK_DAYS)),
};

export type DeploymentEnv = z.output<z.ZodObject<typeof deploymentVars>>;
export type EcsEnv = DeploymentEnv & z.output<z.ZodObject<typeof ecsVars>>;
/** What reaching Cloud Assistant takes: the region and, for the local cloud, the endpoint. */
export type EcsEndpointEnv = DeploymentEnv & z.output<z.ZodObject<typeof ecsEndpointVars>>;
export type QueueEnv = DeploymentEnv & z.output<z.ZodObject<typeof queueVars>>;

/**
 * Every piece at once, the queue optional (not every function has one): for tools and tests that
 * read a whole deployment's variables. Functions parse their own schema (function-envs.ts).
 */
export const functionEnvSchema = z.object({ ...deploymentVars, ...ecsVars, ...queueVars, ...sealVars, ...fetchVars, ...reconcileVars, ...finalReplyVars, ...reportLinkVars }).partial({ FLEETRUN_RESULT_QUEUE: true });
export type FunctionEnv = z.output<typeof functionEnvSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses `env` with `schema`, or throws one ConfigError naming every problem. The region and
 * account default to the ones FC gives every function (`FC_REGION`, `FC_ACCOUNT_ID`:
 * docs/platform-facts.md §5.2), so a function never talks to another region's endpoints by default.
 */
export function parseEnvWith<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>, what: string): z.output<S> {
  const result = schema.safeParse({ ...env, FLEETRUN_REGION: env.FLEETRUN_REGION || env.FC_REGION, FLEETRUN_ACCOUNT_ID: env.FLEETRUN_ACCOUNT_ID || env.FC_ACCOUNT_ID });
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new ConfigError(`${what} is invalid: ${problems}`);
}

export function parseFunctionEnv(env: Record<string, string | undefined>): FunctionEnv {
  return parseEnvWith(functionEnvSchema, env, 'fleetrun configuration');
}
