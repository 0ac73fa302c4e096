/**
 * The functions' configuration, from their environment (s.yaml `environmentVariables`; the local
 * host sets the same names). Parsed once per cold start with one clear message on a mistake; no
 * other code reads process.env.
 */
import { z } from 'zod';

/** How long a final reply's claim stays its holder's before another summarizer or the reconciler takes it over. */
export const DEFAULT_REPLY_TAKEOVER_SECONDS = 300;
/** How long the report link in a chat reply stays valid (FLEETRUN_REPORT_LINK_DAYS). */
export const DEFAULT_REPORT_LINK_DAYS = 7;

/** Unset and empty both mean "not configured" (s.yaml may render an unset variable as ''). */
const optionalText = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().trim().min(1).optional());

export const functionEnvSchema = z.object({
  FLEETRUN_REGION: z.string().min(1).default('cn-hangzhou'),
  FLEETRUN_ACCOUNT_ID: z.string().min(1).default('1234567890123456'),
  /** Bucket of manifests, results and summaries. */
  FLEETRUN_BUCKET: z.string().min(3),
  /** Bucket Cloud Assistant delivers outputs to (OssOutputDelivery); without it outputs are fetched. */
  FLEETRUN_OUTPUT_BUCKET: optionalText,
  FLEETRUN_RESULT_QUEUE: z.string().min(1).default('fleetrun-results'),
  /** Overrides for the local cloud; the regional endpoints when unset. */
  FLEETRUN_ECS_ENDPOINT: optionalText,
  FLEETRUN_ECS_PROTOCOL: z.enum(['http', 'https']).optional(),
  FLEETRUN_MNS_ENDPOINT: optionalText,
  FLEETRUN_OSS_ENDPOINT: optionalText,
  /** Key that seals secret parameter values in manifests (seal.ts). */
  FLEETRUN_SEAL_KEY: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16).optional()),
  /** How long task-events holds the first request for a command's results so others share its call. */
  FLEETRUN_FETCH_WINDOW_MS: z.coerce.number().int().min(0).max(5000).default(100),
  /** task-events never reads a command's results more often than a poller with this interval would have. */
  FLEETRUN_FETCH_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  FLEETRUN_RECONCILE_GRACE_SECONDS: z.coerce.number().int().min(0).default(120),
  /** A chat run handed to dispatch and still not started after this long is dispatched again by the schedule tick. */
  FLEETRUN_REDISPATCH_AFTER_SECONDS: z.coerce.number().int().min(0).default(600),
  FLEETRUN_RECONCILE_MAX_CALLS: z.coerce.number().int().min(1).default(50),
  /** A final reply claimed and not confirmed for this long is sent by the next summarizer or reconciler tick. */
  FLEETRUN_REPLY_TAKEOVER_SECONDS: z.coerce.number().int().min(1).default(DEFAULT_REPLY_TAKEOVER_SECONDS),
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
});
export type FunctionEnv = z.output<typeof functionEnvSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseFunctionEnv(env: Record<string, string | undefined>): FunctionEnv {
  const result = functionEnvSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new ConfigError(`fleetrun configuration is invalid: ${problems}`);
}
