import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSender } from '../../shared/chat/codecs.ts';
import type { ReplyTarget } from '../../shared/chat/types.ts';
import { replyConfigOf, type ChatReplyEnv } from '../../shared/config/chat-env.ts';
import { CHAT_PLATFORMS, envProblems, servedPlatforms } from '../../shared/config/function-env-check.ts';
import { FUNCTION_ENV_SCHEMAS, REPLY_SENDERS, type FunctionName } from '../../shared/config/function-envs.ts';
import { parseSYaml } from '../../local/fc/s-yaml.ts';
import { DEPLOYING_SHELL } from '../support/deploying-shell.ts';

const S_YAML = path.resolve(import.meta.dirname, '../../s.yaml');
const ENV_DOC = path.resolve(import.meta.dirname, '../../docs/function-environment.md');

const SHELL: Record<string, string> = { ...DEPLOYING_SHELL };

type Deployment = Map<string, Record<string, string>>;

async function deployment(text?: string, shell: Record<string, string> = SHELL): Promise<Deployment> {
  const s = parseSYaml(text ?? (await readFile(S_YAML, 'utf8')), { env: shell, config: { AccountID: '1234567890123456' }, baseDir: path.dirname(S_YAML) });
  return new Map(s.functions.map((f) => [f.props.functionName, f.props.environmentVariables]));
}

/**
 * The shared check (function-env-check.ts, which fleetrun doctor runs too), with every platform
 * asked for: the sample shell configures them all, so chatops must serve each and every reply
 * sender must reach each.
 */
function problemsOf(name: FunctionName, env: Record<string, string>, fns: Deployment): string[] {
  const problems = envProblems(name, env, fns, CHAT_PLATFORMS);
  if (name === 'fleetrun-chatops') {
    const served = servedPlatforms(env);
    for (const platform of CHAT_PLATFORMS) if (!served.includes(platform)) problems.push(`${name}: does not serve ${platform}`);
  }
  return problems;
}

describe('each function gets the environment it needs (s.yaml against function-envs.ts)', () => {
  it('every function in s.yaml has a schema, and every schema a function', async () => {
    expect([...(await deployment()).keys()].sort()).toEqual(Object.keys(FUNCTION_ENV_SCHEMAS).sort());
  });

  it('the sample shell covers every ${env(...)} s.yaml reads', async () => {
    const names = [...(await readFile(S_YAML, 'utf8')).matchAll(/\$\{env\('([A-Z0-9_]+)'/g)].map((m) => m[1]!);
    expect(names.filter((n) => !(n in SHELL))).toEqual([]);
  });

  it("each function's environment satisfies its schema, holds nothing it does not read, and gets every deployment value it reads", async () => {
    const fns = await deployment();
    const problems = [...fns].flatMap(([name, env]) => problemsOf(name as FunctionName, env, fns));
    expect(problems).toEqual([]);
  });

  it('dispatch, summarize and schedule send replies, and can send them to Lark and the webhook', async () => {
    expect([...REPLY_SENDERS].sort()).toEqual(['fleetrun-dispatch', 'fleetrun-schedule', 'fleetrun-summarize']);
    const fns = await deployment();
    for (const name of REPLY_SENDERS) {
      const env = FUNCTION_ENV_SCHEMAS[name].parse(fns.get(name)) as ChatReplyEnv;
      const config = replyConfigOf(env);
      expect(config.lark, name).toEqual({ appId: SHELL.FLEETRUN_LARK_APP_ID, appSecret: SHELL.FLEETRUN_LARK_APP_SECRET });
      expect(config.webhook, name).toEqual({ secret: SHELL.FLEETRUN_WEBHOOK_SECRET, callbackOrigins: ['https://ci.example.com', 'https://chat-relay.example.com:8443'] });
    }
  });

  it('with the shell giving no source-map option, no function starts with source maps', async () => {
    for (const [name, env] of await deployment(undefined, { ...SHELL, FLEETRUN_NODE_OPTIONS: '' })) expect(env.NODE_OPTIONS ?? '', name).toBe('');
    for (const [name, env] of await deployment(undefined, { ...SHELL, FLEETRUN_NODE_OPTIONS: '--enable-source-maps' })) expect(env.NODE_OPTIONS, name).toBe('--enable-source-maps');
  });

  it("docs/function-environment.md's table says what each schema reads and requires", async () => {
    const rows = (await readFile(ENV_DOC, 'utf8')).split('\n').filter((l) => /^\| `[A-Z_]+` \|/.test(l));
    const documented = new Map(rows.map((row) => {
      const cells = row.split('|').slice(1, -1).map((c) => c.trim());
      return [cells[0]!.replaceAll('`', ''), cells.slice(1, 6)] as const;
    }));
    const names = Object.keys(FUNCTION_ENV_SCHEMAS) as FunctionName[];
    const actual = new Map<string, string[]>();
    for (const [i, name] of names.entries()) {
      for (const [key, type] of Object.entries(FUNCTION_ENV_SCHEMAS[name].shape)) {
        const cells = actual.get(key) ?? actual.set(key, ['', '', '', '', '']).get(key)!;
        cells[i] = (type as { safeParse(v: unknown): { success: boolean } }).safeParse(undefined).success ? '✓' : '**required**';
      }
    }
    expect(names).toEqual(['fleetrun-chatops', 'fleetrun-dispatch', 'fleetrun-task-events', 'fleetrun-summarize', 'fleetrun-schedule']);
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(actual));
  });

  describe('the check fails when s.yaml drops what a function needs', () => {
    /** s.yaml with one line of one function's environment removed. */
    async function without(resource: string, variable: string): Promise<string[]> {
      const text = await readFile(S_YAML, 'utf8');
      const start = text.indexOf(`\n  ${resource}:\n`);
      expect(start, resource).toBeGreaterThan(0);
      const line = new RegExp(`\\n        ${variable}: [^\\n]*`).exec(text.slice(start));
      expect(line, `${resource}.${variable}`).not.toBeNull();
      const at = start + line!.index;
      const fns = await deployment(text.slice(0, at) + text.slice(at + line![0].length));
      return [...fns].flatMap(([name, env]) => problemsOf(name as FunctionName, env, fns));
    }

    it.each([
      ['task-events', 'FLEETRUN_RESULT_QUEUE', /fleetrun-task-events: FLEETRUN_RESULT_QUEUE/],
      ['schedule', 'FLEETRUN_RESULT_QUEUE', /fleetrun-schedule: FLEETRUN_RESULT_QUEUE/],
      ['summarize', 'FLEETRUN_BUCKET', /fleetrun-summarize: FLEETRUN_BUCKET/],
      ['summarize', 'FLEETRUN_LARK_APP_ID', /fleetrun-summarize: FLEETRUN_LARK_APP_ID is given to other functions but not to this one[\s\S]*cannot send Lark replies/],
      ['dispatch', 'FLEETRUN_LARK_APP_SECRET', /fleetrun-dispatch: cannot send Lark replies/],
      ['schedule', 'FLEETRUN_WEBHOOK_SECRET', /fleetrun-schedule: cannot send webhook replies/],
      ['dispatch', 'FLEETRUN_SEAL_KEY', /fleetrun-dispatch: FLEETRUN_SEAL_KEY is given to other functions but not to this one/],
      ['summarize', 'FLEETRUN_SEAL_KEY', /fleetrun-summarize: FLEETRUN_SEAL_KEY is given to other functions but not to this one/],
      ['task-events', 'FLEETRUN_OUTPUT_BUCKET', /fleetrun-task-events: FLEETRUN_OUTPUT_BUCKET is given to other functions but not to this one/],
      ['chatops', 'FLEETRUN_LARK_APP_ID', /fleetrun-chatops: FLEETRUN_LARK_APP_ID is given to other functions but not to this one/],
      ['chatops', 'FLEETRUN_SLACK_SIGNING_SECRET', /fleetrun-chatops: does not serve slack/],
      ['chatops', 'FLEETRUN_DINGTALK_APP_SECRET', /fleetrun-chatops: does not serve dingtalk/],
      ['schedule', 'FLEETRUN_PUBLIC_URL', /fleetrun-schedule: FLEETRUN_PUBLIC_URL is given to other functions but not to this one/],
    ])('%s without %s', async (resource, variable, problem) => {
      expect((await without(resource, variable)).join('\n')).toMatch(problem);
    });

    it('and when a function is given what it never reads', async () => {
      const text = (await readFile(S_YAML, 'utf8')).replace(/(\n  summarize:[\s\S]*?environmentVariables:\n)/, '$1        FLEETRUN_RESULT_QUEUE: fleetrun-results\n');
      const fns = await deployment(text);
      expect(problemsOf('fleetrun-summarize', fns.get('fleetrun-summarize')!, fns)).toEqual(['fleetrun-summarize: FLEETRUN_RESULT_QUEUE is set but the function never reads it']);
    });
  });

  it('a sender configured with the Lark app alone really sends to Lark (no verification token or encrypt key)', async () => {
    const calls: string[] = [];
    const fetchImpl = (async (url: string | URL) => {
      calls.push(String(url));
      const body = String(url).includes('tenant_access_token') ? { code: 0, tenant_access_token: 't-1', expire: 7200 } : { code: 0, data: {} };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const sender = createSender(replyConfigOf({ FLEETRUN_LARK_APP_ID: 'cli_x', FLEETRUN_LARK_APP_SECRET: 'app-secret-value', FLEETRUN_PROGRESS_INTERVAL_SECONDS: 5 }), fetchImpl);
    const target: ReplyTarget = { platform: 'lark', chatId: 'oc_1', messageId: 'om_1' };
    await sender.send(target, { text: 'done' });
    expect(calls.some((u) => u.includes('tenant_access_token'))).toBe(true);
    expect(calls.length).toBeGreaterThanOrEqual(2);
  });
});
