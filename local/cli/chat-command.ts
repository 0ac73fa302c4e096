/**
 * `fleetrun chat "run uptime on env=demo"`: sends a signed chat command to the local cloud's
 * chatops function (the signed-webhook platform), shows the answer, a progress bar as instances
 * finish, and the final summary with the report link. A refusal (`ok: false`, README "Webhook
 * answers") is printed with its code and ends the command with exit code 1.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import { startChatThread, type ThreadReply } from './chat-thread.ts';
import { DEMO_CHAT, PROJECT_ROOT } from '../local-cloud.ts';
import { UsageError } from './access-keys.ts';

export const LOCAL_STATE_FILE = path.join(PROJECT_ROOT, '.fleetrun', 'local.json');

export const CHAT_HELP = `Usage: fleetrun chat [options] "<command>"

Sends a signed chat command to the running local cloud (npm start) and shows the replies.

Options:
  --url URL        the chatops endpoint (default: the one npm start wrote to .fleetrun/local.json)
  --user NAME      who is asking (default demo-ci, allowed by the demo policy)
  --secret S       the webhook signing secret (default FLEETRUN_WEBHOOK_SECRET or the demo one)
  --timeout SEC    how long to wait for the final reply (default 120)

Exit codes: 0 the run finished (or the answer needed no run), 1 refused or failed to send, 2 no final reply in time (from a deployed chatops none comes here).`;

function refusalLine(code: string | undefined, message: string): string {
  return `refused${code ? ` (${code})` : ''}: ${message}`;
}

export async function chatCommand(argv: string[], print: (line: string) => void = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { url: { type: 'string' }, user: { type: 'string' }, secret: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return (print(CHAT_HELP), 0);
  const text = positionals.join(' ').trim();
  if (!text) throw new UsageError('give the command to send, e.g. fleetrun chat "run uptime on env=demo"');
  const url = values.url ?? (JSON.parse(await readFile(LOCAL_STATE_FILE, 'utf8').catch(() => '{}')) as { chatUrl?: string }).chatUrl;
  if (!url) throw new UsageError('no chatops endpoint: start the local cloud with npm start, or pass --url');
  const secret = values.secret ?? process.env.FLEETRUN_WEBHOOK_SECRET ?? DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET;
  const timeoutMs = Number(values.timeout ?? 120) * 1000;

  const bar = new SingleBar({ format: 'progress |{bar}| {value}/{total} instances', hideCursor: true, clearOnComplete: false });
  let barStarted = false;
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (done = resolve));
  const onReply = (reply: ThreadReply) => {
    // A run refused at dispatch (its targets resolved past the rule's maxTargets) ends the thread.
    if (reply.ok === false || /^Run \S+ not started: /.test(reply.message)) {
      if (barStarted) bar.stop();
      print(refusalLine(reply.code, reply.message));
      done(1);
      return;
    }
    const progress = /(\d+)\/(\d+) instances finished/.exec(reply.message);
    if (progress) {
      if (!barStarted) bar.start(Number(progress[2]), 0);
      barStarted = true;
      bar.update(Number(progress[1]));
      return;
    }
    if (barStarted && reply.link) bar.stop();
    print(reply.message);
    if (reply.link) done(0);
  };
  // The thread listens on this machine, which only a local cloud's functions reach (and list as a
  // callback origin); a deployed chatops would refuse the callbackUrl, so it is sent none.
  const thread = onLoopback(url) ? await startChatThread(secret, onReply) : undefined;
  try {
    const body = JSON.stringify({ user: values.user ?? 'demo-ci', text, ...(thread ? { callbackUrl: thread.url } : {}) });
    const res = await fetch(`${url.replace(/\/$/, '')}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...webhookHeaders(secret, body) } });
    const answer = (await res.json().catch(() => ({}))) as { ok?: boolean; code?: string; message?: string; error?: string };
    if (!res.ok || answer.ok === false) {
      print(refusalLine(answer.code ?? `HTTP ${res.status}`, answer.message ?? answer.error ?? res.statusText));
      return 1;
    }
    print(answer.message ?? '');
    if (!/ started/.test(answer.message ?? '')) return 0;
    if (!thread) {
      print('no final reply here: a deployed chatops sends a run\'s replies to a chat platform or a callbackUrl it lists, not to this machine');
      return 2;
    }
    const timer = setTimeout(() => done(2), timeoutMs);
    const code = await finished;
    clearTimeout(timer);
    if (code === 2) print(`no final reply within ${timeoutMs / 1000} s`);
    return code;
  } finally {
    if (barStarted) bar.stop();
    await thread?.close();
  }
}

/** Whether a URL is on this machine's loopback: a local cloud's chatops. */
function onLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
  } catch {
    return false;
  }
}
