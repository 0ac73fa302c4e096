/**
 * Issue 14, item 2: secrets that a script transforms before printing them are redacted all the
 * same. The demo catalog's secret-probe runs `echo "the token is: $token"` with the instances'
 * `sh` (dash), whose `echo` reads backslash escapes: a token holding `\t` is printed with a tab,
 * and one holding `\c` is printed up to there. Both cases of the issue go through the whole local
 * cloud — a signed webhook command, chatops, dispatch, the fleet, task-events, MNS, summarize, the
 * report, the final reply, `status` — and then no stored object, queue message, log line or chat
 * reply holds the token as typed or as printed, nor any 8 characters of either, in any of the
 * encodings secret-scan.ts knows (plain, JSON, URL, form, base64 at any alignment).
 *
 * The forms are written out here, not taken from shared/runtime/redaction.ts: the test checks what
 * dash prints against what fleetrun hides, and the scan must not share a mistake with the redactor.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookHeaders } from '../../shared/chat/sign.ts';
import { storedResultOf } from '../../shared/pipeline/stored-results.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { AliOssStore } from '../../shared/store/ali-oss-store.ts';
import { waitForObject, waitUntil } from '../../local/cli/harness/pipeline-cloud.ts';
import { parseFleet } from '../../local/ecs/fleet.ts';
import { DEMO_CHAT, PROJECT_ROOT, startLocalCloud, type LocalCloud } from '../../local/local-cloud.ts';
import { fetchReportsInto, secretsEverywhere, startRepliesRecorder, type RecordedReply, type RepliesRecorder } from '../support/replies-recorder.ts';
import { scanFiles } from '../support/secret-scan.ts';

const KEY = { id: 'transforms-key', secret: 'transforms-access-secret-7c1e' };

/**
 * The two tokens, as the chat message spells them (inside double quotes, `\\` is one
 * backslash), as the script receives them, and as dash's echo prints them.
 */
const CASES = [
  { name: 'a \\t, printed as a tab', typed: 'Pa55\\\\tw0rd-15d55f', value: 'Pa55\\tw0rd-15d55f', printed: 'Pa55\tw0rd-15d55f' },
  { name: 'a \\c, where echo stops after 19 characters', typed: 'Kq7-Lm2-Xw9-Rt5-Bn3\\\\cVz8-never-printed-Hy4', value: 'Kq7-Lm2-Xw9-Rt5-Bn3\\cVz8-never-printed-Hy4', printed: 'Kq7-Lm2-Xw9-Rt5-Bn3' },
] as const;

/** What the redactor promises: the whole text, and every run of 8 of its characters. */
function windowsOf(text: string): string[] {
  const out = new Set([text]);
  for (let i = 0; i + 8 <= text.length; i++) out.add(text.slice(i, i + 8));
  return [...out];
}

const FLEET = `instances:
  - { id: i-bp1xform0000001, name: web-1, tags: { env: demo } }
  - { id: i-bp1xform0000002, name: web-2, tags: { env: demo } }
`;

let cloud: LocalCloud;
let cloudClosed = false;
let dataDir: string;
let store: AliOssStore;
let chatUrl: string;
let recorder: RepliesRecorder;
let callbackUrl: string;
const logs: string[] = [];
/** Every chat answer and follow-up, and the reports fetched through their links. */
let replies: RecordedReply[];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'fleetrun-transforms-'));
  recorder = await startRepliesRecorder();
  replies = recorder.replies;
  callbackUrl = `${recorder.origin}/webhook`;
  // The demo catalog (secret-probe) and policy (webhook:demo-ci on env=demo) are the local cloud's defaults.
  cloud = await startLocalCloud({
    fleet: parseFleet(FLEET),
    accessKeys: { [KEY.id]: KEY.secret },
    sYamlPath: path.join(PROJECT_ROOT, 's.yaml'),
    timers: false,
    dataDir,
    log: (line) => logs.push(line),
    // The replies server's origin is listed, as a deployment lists its callback server's.
    chat: { FLEETRUN_WEBHOOK_CALLBACK_ORIGINS: new URL(callbackUrl).origin },
    functionEnv: { FLEETRUN_PROGRESS_INTERVAL_SECONDS: '1' },
  });
  store = new AliOssStore({ bucket: 'fleetrun-runs', region: 'oss-cn-hangzhou', credentials: { accessKeyId: KEY.id, accessKeySecret: KEY.secret }, endpoint: cloud.oss.endpoint });
  chatUrl = cloud.fc!.httpEndpoints.get('fleetrun-chatops')!;
}, 60_000);

afterAll(async () => {
  if (!cloudClosed) await cloud?.close();
  recorder?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function webhook(text: string): Promise<string> {
  const body = JSON.stringify({ user: 'demo-ci', text, callbackUrl, id: `d-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}` });
  const res = await fetch(`${chatUrl}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) } });
  const answer = await res.text();
  replies.push({ path: 'ack /webhook', body: answer });
  expect(res.status, answer).toBe(200);
  return answer;
}

describe('a secret the script transforms', () => {
  it("the instances' sh prints the tokens as written here", () => {
    for (const c of CASES) expect(execFileSync('sh', ['-c', 'echo "$1"', 'sh', c.value]).toString().replace(/\n$/, ''), c.name).toBe(c.printed);
  });

  it('appears in no stored object, queue message, log line or chat reply, as typed, as printed or 8 characters of either', async () => {
    const runIds: string[] = [];
    for (const c of CASES) {
      const answer = await webhook(`run secret-probe on env=demo with token="${c.typed}"`);
      const runId = /Run (r-[a-z0-9-]+) started/.exec(answer)?.[1];
      expect(runId, answer).toBeDefined();
      runIds.push(runId!);
    }
    for (const runId of runIds) await waitForObject(store, runKeys.report(runId), 60_000);
    await waitUntil(() => runIds.every((id) => replies.some((r) => r.body.includes(id) && r.body.includes('succeeded'))), 30_000, 'the final replies');
    // status reads the summary back into a reply; the report is fetched through its link, as a person would.
    for (const runId of runIds) await webhook(`status ${runId}`);
    await cloud.fc!.asyncInvocations.idle(30_000);
    await fetchReportsInto(replies, runIds);
    const outputs: string[] = [];
    for (const runId of runIds) outputs.push((await storedResultOf(store, runId, 'i-bp1xform0000001'))!.output);
    // Every function's output reaches the log once its process is gone.
    await cloud.close();
    cloudClosed = true;

    const needles = CASES.flatMap((c) => [...windowsOf(c.value), ...windowsOf(c.printed)]);
    const hits = await secretsEverywhere({ logs, replies, dataDir }, needles);
    expect(hits.map((h) => `${h.where}: ${h.form} of ${JSON.stringify(h.secret)}: …${JSON.stringify(h.context)}…`)).toEqual([]);

    // The scripts did print the tokens (echo's \c swallowed the newline), and the results hold what redaction left: the length, not the token.
    expect(outputs).toEqual(CASES.map((c) => `the token is: ***${c.value.includes('\\c') ? '' : '\n'}its length is: ${c.value.length}\n`));
    // The scan read where the runs' outputs went: what the script printed beside the token is in the bucket's and the queue's files.
    const visible = CASES.map((c) => `its length is: ${c.value.length}`);
    expect((await scanFiles(path.join(dataDir, 'oss'), visible)).hits.filter((h) => h.where.startsWith('fleetrun-runs')).map((h) => h.secret)).toEqual(expect.arrayContaining(visible));
    expect((await scanFiles(path.join(dataDir, 'mns'), visible)).hits.map((h) => h.secret)).toEqual(expect.arrayContaining(visible));
    expect(replies.filter((r) => r.path.startsWith('report.html') && r.body.includes('the token is: ***'))).toHaveLength(runIds.length);
  }, 120_000);
});
