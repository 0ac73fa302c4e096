/**
 * The chat side of the functions' configuration: which platforms are served (a platform is on when
 * its secret is set), where the catalog, policy and job files are, and how to reach dispatch.
 */
import { z } from 'zod';
import type { ChatConfig } from '../chat/codecs.ts';
import { ConfigError } from './env.ts';

/** 64 KiB: a chat payload is small, and this bounds what an unauthenticated sender makes us read and hash. */
export const DEFAULT_CHAT_MAX_BODY_BYTES = 64 * 1024;

const text = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().min(1).optional());
const list = z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? v.split(',').map((s) => s.trim()) : undefined), z.array(z.string()).optional());

export const chatEnvSchema = z.object({
  FLEETRUN_SLACK_SIGNING_SECRET: text,
  /** Extra origins Slack's response_url may have (the local chat CLI's loopback server). */
  FLEETRUN_SLACK_RESPONSE_ORIGINS: list,
  FLEETRUN_DINGTALK_APP_SECRET: text,
  FLEETRUN_DINGTALK_WEBHOOK_ORIGINS: list,
  FLEETRUN_LARK_VERIFICATION_TOKEN: text,
  FLEETRUN_LARK_ENCRYPT_KEY: text,
  FLEETRUN_LARK_APP_ID: text,
  FLEETRUN_LARK_APP_SECRET: text,
  FLEETRUN_LARK_API_BASE: text,
  FLEETRUN_WEBHOOK_SECRET: text,
  /** Set by FC (and the local host) to the function's code folder: relative file paths below are relative to it. */
  FC_FUNC_CODE_PATH: text,
  FLEETRUN_CATALOG_FILE: z.string().default('./config/catalog.yaml'),
  FLEETRUN_POLICY_FILE: z.string().default('./config/policy.yaml'),
  FLEETRUN_JOBS_FILE: z.string().default('./config/jobs.yaml'),
  FLEETRUN_DISPATCH_FUNCTION: z.string().default('fleetrun-dispatch'),
  /** The FC API endpoint with its scheme (`http://127.0.0.1:PORT` locally); FC's regional one when unset. */
  FLEETRUN_FC_ENDPOINT: text,
  /** The FC API chatops hands runs to dispatch through: 3.0 (fc3 deployments, by function name) or 2.0 (service + function). */
  FLEETRUN_FC_API_VERSION: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.enum(['3.0', '2.0']).default('3.0')),
  /** The FC 2.0 service holding the dispatch function; required with FLEETRUN_FC_API_VERSION=2.0. */
  FLEETRUN_FC_SERVICE: text,
  /** At most one progress message per run in this many seconds. */
  FLEETRUN_PROGRESS_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(5),
  /**
   * The largest chat request body chatops reads, in bytes; a bigger one is answered 413 before any
   * work. A chat command is a few hundred bytes, the platforms' envelopes a few KB.
   */
  FLEETRUN_CHAT_MAX_BODY_BYTES: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.coerce.number().int().min(1024).max(32 * 1024 * 1024).default(DEFAULT_CHAT_MAX_BODY_BYTES),
  ),
});
export type ChatEnv = z.output<typeof chatEnvSchema>;

export function parseChatEnv(env: Record<string, string | undefined>): ChatEnv {
  const result = chatEnvSchema
    .refine((e) => e.FLEETRUN_FC_API_VERSION !== '2.0' || e.FLEETRUN_FC_SERVICE !== undefined, { path: ['FLEETRUN_FC_SERVICE'], message: 'the FC 2.0 API needs the service of the dispatch function (FLEETRUN_FC_API_VERSION=2.0)' })
    .safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(`fleetrun chat configuration is invalid: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}

/** The platforms whose secrets are configured. */
export function chatConfigOf(env: ChatEnv): ChatConfig {
  return {
    ...(env.FLEETRUN_SLACK_SIGNING_SECRET
      ? { slack: { signingSecret: env.FLEETRUN_SLACK_SIGNING_SECRET, ...(env.FLEETRUN_SLACK_RESPONSE_ORIGINS ? { responseUrlOrigins: ['https://hooks.slack.com', ...env.FLEETRUN_SLACK_RESPONSE_ORIGINS] } : {}) } }
      : {}),
    ...(env.FLEETRUN_DINGTALK_APP_SECRET
      ? { dingtalk: { appSecret: env.FLEETRUN_DINGTALK_APP_SECRET, ...(env.FLEETRUN_DINGTALK_WEBHOOK_ORIGINS ? { sessionWebhookOrigins: ['https://oapi.dingtalk.com', 'https://api.dingtalk.com', ...env.FLEETRUN_DINGTALK_WEBHOOK_ORIGINS] } : {}) } }
      : {}),
    ...(env.FLEETRUN_LARK_VERIFICATION_TOKEN || env.FLEETRUN_LARK_ENCRYPT_KEY
      ? {
          lark: {
            ...(env.FLEETRUN_LARK_VERIFICATION_TOKEN ? { verificationToken: env.FLEETRUN_LARK_VERIFICATION_TOKEN } : {}),
            ...(env.FLEETRUN_LARK_ENCRYPT_KEY ? { encryptKey: env.FLEETRUN_LARK_ENCRYPT_KEY } : {}),
            ...(env.FLEETRUN_LARK_APP_ID ? { appId: env.FLEETRUN_LARK_APP_ID } : {}),
            ...(env.FLEETRUN_LARK_APP_SECRET ? { appSecret: env.FLEETRUN_LARK_APP_SECRET } : {}),
            ...(env.FLEETRUN_LARK_API_BASE ? { apiBase: env.FLEETRUN_LARK_API_BASE } : {}),
          },
        }
      : {}),
    ...(env.FLEETRUN_WEBHOOK_SECRET ? { webhook: { secret: env.FLEETRUN_WEBHOOK_SECRET } } : {}),
  };
}

/** Every configured chat secret, for the logger's redaction. */
export function chatSecrets(env: ChatEnv): string[] {
  return [env.FLEETRUN_SLACK_SIGNING_SECRET, env.FLEETRUN_DINGTALK_APP_SECRET, env.FLEETRUN_LARK_VERIFICATION_TOKEN, env.FLEETRUN_LARK_ENCRYPT_KEY, env.FLEETRUN_LARK_APP_SECRET, env.FLEETRUN_WEBHOOK_SECRET].filter(
    (s): s is string => !!s,
  );
}
