/**
 * A deployment's environments (what s.yaml gives each function) held to the functions' schemas
 * (function-envs.ts), as plain sentences naming the function and the variable. One check for
 * `fleetrun doctor` (before `s deploy`) and test/unit/function-env.test.ts (the shipped s.yaml).
 */
import { chatConfigOf, replyConfigOf, type ChatReceiveEnv, type ChatReplyEnv } from './chat-env.ts';
import { FUNCTION_ENV_SCHEMAS, REPLY_SENDERS, type FunctionName } from './function-envs.ts';

/** Variables s.yaml may set that no fleetrun schema reads (the runtime's own). */
export const RUNTIME_VARIABLES: ReadonlySet<string> = new Set(['NODE_OPTIONS']);

/** The chat platforms chatops can serve, each on when its request-checking secret is set. */
export const CHAT_PLATFORMS = ['slack', 'dingtalk', 'lark', 'webhook'] as const;
export type ChatPlatform = (typeof CHAT_PLATFORMS)[number];

/** Function name → its environment as s.yaml renders it. */
export type Deployment = ReadonlyMap<string, Readonly<Record<string, string>>>;

export function isFunctionName(name: string): name is FunctionName {
  return Object.hasOwn(FUNCTION_ENV_SCHEMAS, name);
}

/**
 * One value per deployment: what any function is given (a bucket, a secret from the shell), every
 * other function that reads that variable must be given too, the same. A secret left out is a
 * platform silently off; an output bucket left out, outputs silently fetched.
 */
export function deploymentValues(fns: Deployment): Map<string, string> {
  const values = new Map<string, string>();
  for (const env of fns.values()) for (const [key, value] of Object.entries(env)) if (value !== '' && !RUNTIME_VARIABLES.has(key)) values.set(key, value);
  return values;
}

/** The platforms a chat-receiving environment serves (createCodecs serves exactly these). */
export function servedPlatforms(env: Readonly<Record<string, string>>): ChatPlatform[] {
  const schema = FUNCTION_ENV_SCHEMAS['fleetrun-chatops'];
  const parsed = schema.safeParse(env);
  if (!parsed.success) return [];
  const served = Object.keys(chatConfigOf(parsed.data as ChatReceiveEnv));
  return CHAT_PLATFORMS.filter((p) => served.includes(p));
}

/**
 * Every problem of one function's environment against its schema, in words: what the schema
 * refuses, what the function never reads, a deployment value it is not given (or given otherwise),
 * and, for a function that sends replies, each of `replyTo` it cannot send to.
 */
export function envProblems(name: FunctionName, env: Readonly<Record<string, string>>, fns: Deployment, replyTo: readonly ChatPlatform[]): string[] {
  const schema = FUNCTION_ENV_SCHEMAS[name];
  const problems: string[] = [];
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const variable = issue.path.join('.');
      const value = env[variable];
      const state = value === undefined || value === '' ? 'is required but not set' : `has a value the function refuses`;
      problems.push(`${name}: ${variable} ${state} (${issue.message})`);
    }
  }
  for (const key of Object.keys(env)) if (!(key in schema.shape) && !RUNTIME_VARIABLES.has(key)) problems.push(`${name}: ${key} is set but the function never reads it`);
  const values = deploymentValues(fns);
  for (const key of Object.keys(schema.shape)) {
    const value = values.get(key);
    if (value !== undefined && env[key] !== value) problems.push(`${name}: ${key} is given to other functions but ${env[key] === undefined || env[key] === '' ? 'not to this one' : 'differs here'}`);
  }
  if (parsed.success && REPLY_SENDERS.includes(name)) problems.push(...replyProblems(name, parsed.data as ChatReplyEnv, replyTo));
  return problems;
}

/** A reply sender must be able to send to every platform asked for that needs credentials to send to (Slack and DingTalk need none: their reply URLs are capabilities). */
function replyProblems(name: FunctionName, env: ChatReplyEnv, replyTo: readonly ChatPlatform[]): string[] {
  const config = replyConfigOf(env);
  const problems: string[] = [];
  if (replyTo.includes('lark') && !config.lark) problems.push(`${name}: cannot send Lark replies (FLEETRUN_LARK_APP_ID and FLEETRUN_LARK_APP_SECRET)`);
  if (replyTo.includes('webhook') && !config.webhook) problems.push(`${name}: cannot send webhook replies (FLEETRUN_WEBHOOK_SECRET)`);
  return problems;
}
