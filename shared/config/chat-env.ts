/**
 * The chat side of the functions' configuration, in pieces each function takes what it needs of
 * (function-envs.ts): the platforms chatops serves (a platform is on when its secret is set), what
 * sending replies needs, where the catalog, policy and job files are, and how to reach dispatch.
 */
import { z } from 'zod';
import type { ChatConfig } from '../chat/codecs.ts';
import { parseEnvWith } from './env.ts';

/** 64 KiB: a chat payload is small, and this bounds what an unauthenticated sender makes us read and hash. */
export const DEFAULT_CHAT_MAX_BODY_BYTES = 64 * 1024;

const text = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().min(1).optional());
const list = z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? v.split(',').map((s) => s.trim()) : undefined), z.array(z.string()).optional());

/** `scheme://host[:port]` (http or https, a trailing `/` allowed) as URL writes its origin; undefined for anything more or less. */
function asOrigin(entry: string): string | undefined {
  try {
    const u = new URL(entry);
    const bare = (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === '' && u.pathname === '/' && !/[?#*]/.test(entry);
    return bare ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

/** Comma-separated origins, each exactly one (no path, no wildcard), as URL writes them so they compare with a URL's origin. */
const originList = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() !== '' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined),
  z
    .array(
      z.string().transform((entry, ctx) => {
        const origin = asOrigin(entry);
        if (origin === undefined) ctx.addIssue({ code: 'custom', message: `"${entry.slice(0, 100)}" is not an origin: scheme://host[:port] with http or https, nothing after it, no wildcard` });
        return origin ?? entry;
      }),
    )
    .optional(),
);

/**
 * Both receiving and replying: the Lark app (refuses events for another app; sends as it), the
 * webhook's secret (checks requests; signs replies) and the webhook's callback origins (chatops
 * refuses a callbackUrl off them; the senders post to nothing else).
 */
const sharedChatVars = {
  FLEETRUN_LARK_APP_ID: text,
  FLEETRUN_WEBHOOK_SECRET: text,
  /** The origins a webhook callbackUrl may have, comma-separated; none when unset (WebhookOptions.callbackOrigins). */
  FLEETRUN_WEBHOOK_CALLBACK_ORIGINS: originList,
};

/** chatops: the platforms it serves, each on when its secret is set. */
export const chatReceiveVars = {
  ...sharedChatVars,
  FLEETRUN_SLACK_SIGNING_SECRET: text,
  /** Extra origins Slack's response_url may have (the local chat CLI's loopback server). */
  FLEETRUN_SLACK_RESPONSE_ORIGINS: list,
  FLEETRUN_DINGTALK_APP_SECRET: text,
  FLEETRUN_DINGTALK_WEBHOOK_ORIGINS: list,
  FLEETRUN_LARK_VERIFICATION_TOKEN: text,
  FLEETRUN_LARK_ENCRYPT_KEY: text,
  /**
   * The largest chat request body chatops reads, in bytes; a bigger one is answered 413 before any
   * work. A chat command is a few hundred bytes, the platforms' envelopes a few KB.
   */
  FLEETRUN_CHAT_MAX_BODY_BYTES: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.coerce.number().int().min(1024).max(32 * 1024 * 1024).default(DEFAULT_CHAT_MAX_BODY_BYTES),
  ),
};

/**
 * Functions that send replies after the request's answer (dispatch, summarize, schedule). Slack and
 * DingTalk replies need nothing (their reply URLs are capabilities); Lark needs the app's id and
 * secret, the webhook its secret (replies are signed).
 */
export const chatReplyVars = {
  ...sharedChatVars,
  FLEETRUN_LARK_APP_SECRET: text,
  FLEETRUN_LARK_API_BASE: text,
  /** At most one progress message per run in this many seconds. */
  FLEETRUN_PROGRESS_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(5),
};

/** Functions that read the catalog, policy or job files. */
export const chatFilesVars = {
  /** Set by FC (and the local host) to the function's code folder: relative file paths below are relative to it. */
  FC_FUNC_CODE_PATH: text,
  FLEETRUN_CATALOG_FILE: z.string().default('./config/catalog.yaml'),
  FLEETRUN_POLICY_FILE: z.string().default('./config/policy.yaml'),
  FLEETRUN_JOBS_FILE: z.string().default('./config/jobs.yaml'),
};

/** chatops: how runs are handed to dispatch. */
export const handOffVars = {
  FLEETRUN_DISPATCH_FUNCTION: z.string().default('fleetrun-dispatch'),
  /** The FC API endpoint with its scheme (`http://127.0.0.1:PORT` locally); FC's regional one over HTTPS when unset (endpoints.ts). */
  FLEETRUN_FC_ENDPOINT: text,
  /** The FC API chatops hands runs to dispatch through: 3.0 (fc3 deployments, by function name) or 2.0 (service + function). */
  FLEETRUN_FC_API_VERSION: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.enum(['3.0', '2.0']).default('3.0')),
  /** The FC 2.0 service holding the dispatch function; required with FLEETRUN_FC_API_VERSION=2.0. */
  FLEETRUN_FC_SERVICE: text,
};

export type ChatReceiveEnv = z.output<z.ZodObject<typeof chatReceiveVars>>;
export type ChatReplyEnv = z.output<z.ZodObject<typeof chatReplyVars>>;
export type ChatFilesEnv = z.output<z.ZodObject<typeof chatFilesVars>>;
export type HandOffEnv = z.output<z.ZodObject<typeof handOffVars>>;

/** The FC 2.0 API addresses a function inside a service: without one, every hand-off would fail. */
export function withFc2Service<S extends z.ZodObject<typeof handOffVars>>(schema: S): S {
  return schema.refine((e) => e.FLEETRUN_FC_API_VERSION !== '2.0' || e.FLEETRUN_FC_SERVICE !== undefined, {
    path: ['FLEETRUN_FC_SERVICE'],
    message: 'the FC 2.0 API needs the service of the dispatch function (FLEETRUN_FC_API_VERSION=2.0)',
  }) as S;
}

/** Every chat piece at once: for tools and tests; functions parse their own schema (function-envs.ts). */
export const chatEnvSchema = withFc2Service(z.object({ ...chatReceiveVars, ...chatReplyVars, ...chatFilesVars, ...handOffVars }));
export type ChatEnv = z.output<typeof chatEnvSchema>;

export function parseChatEnv(env: Record<string, string | undefined>): ChatEnv {
  return parseEnvWith(chatEnvSchema, env, 'fleetrun chat configuration');
}

/** The platforms chatops serves: those whose request-checking secret is set (createCodecs). */
export function chatConfigOf(env: ChatReceiveEnv): ChatConfig {
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
          },
        }
      : {}),
    ...(env.FLEETRUN_WEBHOOK_SECRET ? { webhook: webhookConfigOf(env.FLEETRUN_WEBHOOK_SECRET, env) } : {}),
  };
}

function webhookConfigOf(secret: string, env: Pick<ChatReceiveEnv, 'FLEETRUN_WEBHOOK_CALLBACK_ORIGINS'>): NonNullable<ChatConfig['webhook']> {
  return { secret, callbackOrigins: env.FLEETRUN_WEBHOOK_CALLBACK_ORIGINS ?? [] };
}

/**
 * What a function that sends replies can send (createSender): Lark with the app's id and secret
 * alone — the request-checking token and key are chatops' business, not the sender's — and the
 * webhook with its secret, to its listed callback origins only. Slack and DingTalk need nothing.
 */
export function replyConfigOf(env: ChatReplyEnv): ChatConfig {
  return {
    ...(env.FLEETRUN_LARK_APP_ID && env.FLEETRUN_LARK_APP_SECRET
      ? { lark: { appId: env.FLEETRUN_LARK_APP_ID, appSecret: env.FLEETRUN_LARK_APP_SECRET, ...(env.FLEETRUN_LARK_API_BASE ? { apiBase: env.FLEETRUN_LARK_API_BASE } : {}) } }
      : {}),
    ...(env.FLEETRUN_WEBHOOK_SECRET ? { webhook: webhookConfigOf(env.FLEETRUN_WEBHOOK_SECRET, env) } : {}),
  };
}

const SECRET_NAMES = ['FLEETRUN_SLACK_SIGNING_SECRET', 'FLEETRUN_DINGTALK_APP_SECRET', 'FLEETRUN_LARK_VERIFICATION_TOKEN', 'FLEETRUN_LARK_ENCRYPT_KEY', 'FLEETRUN_LARK_APP_SECRET', 'FLEETRUN_WEBHOOK_SECRET'] as const;

/** Every configured chat secret a function holds, for the logger's redaction. */
export function chatSecrets(env: Partial<Record<(typeof SECRET_NAMES)[number], string | undefined>>): string[] {
  return SECRET_NAMES.map((name) => env[name]).filter((s): s is string => !!s);
}
