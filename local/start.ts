/**
 * `npm start`: the whole local cloud — ECS Cloud Assistant with the demo fleet, OSS, MNS, the event
 * bus and the five functions of s.yaml in their own processes — with a chat thread of its own: it
 * sends one signed demo command through chatops and prints every reply (progress, the summary, the
 * report link), then prints ready curls for a next command and for the retry of the demo run's
 * failed instance (its replies in the same thread), and keeps serving until Ctrl-C.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { webhookHeaders } from '../shared/chat/sign.ts';
import { startChatThread } from './cli/chat-thread.ts';
import { LOCAL_STATE_FILE } from './cli/chat-command.ts';
import { closeOnSignals, parseLocalArgs, startFromOptions } from './cli/local-command.ts';
import { DEMO_CHAT } from './local-cloud.ts';

const DEMO_COMMAND = 'run web-healthcheck on env=demo';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A curl that sends `text` as a signed webhook chat command; the signature holds 5 minutes, once. */
function signedCurl(chatUrl: string, text: string, callbackUrl: string): string {
  const body = JSON.stringify({ user: 'demo-ci', text, callbackUrl });
  const h = webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body);
  return `curl -s -X POST ${chatUrl}/webhook -H 'content-type: application/json' -H 'x-fleetrun-timestamp: ${h['x-fleetrun-timestamp']}' -H 'x-fleetrun-signature: ${h['x-fleetrun-signature']}' -d ${shellQuote(body)}`;
}

const options = parseLocalArgs(process.argv.slice(2));
if (options === 'help') {
  console.log('npm start -- [fleetrun local options]');
} else {
  const cloud = await startFromOptions({ ...options, quiet: true });
  const thread = await startChatThread(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, (reply) => console.log(`  chat ◂ ${reply.message.replace(/\n/g, '\n         ')}`));
  const chatUrl = cloud.fc?.httpEndpoints.get('fleetrun-chatops');
  if (chatUrl) {
    await mkdir(path.dirname(LOCAL_STATE_FILE), { recursive: true });
    // Where `fleetrun chat`, `fleetrun runs` and `fleetrun report` find this cloud (no secret: the demo key is the default).
    const bucket = cloud.fc?.functions.get('fleetrun-chatops')?.options.env.FLEETRUN_BUCKET;
    await writeFile(LOCAL_STATE_FILE, JSON.stringify({ chatUrl, threadUrl: thread.url, ossEndpoint: cloud.oss.endpoint, bucket, region: options.regionId }, null, 2));
    console.log(`\nchat   ${chatUrl}/{slack,dingtalk,lark,webhook}\n\ndemo: "${DEMO_COMMAND}" as a signed webhook message; the replies follow.`);
    const body = JSON.stringify({ user: 'demo-ci', text: DEMO_COMMAND, callbackUrl: thread.url });
    let demoRunId: string | undefined;
    try {
      const res = await fetch(`${chatUrl}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...webhookHeaders(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, body) } });
      const message = ((await res.json()) as { message?: string; error?: string }).message;
      demoRunId = /^Run (r-[a-z0-9-]+) started/.exec(message ?? '')?.[1];
      console.log(`  chat ◂ ${message ?? res.status}`);
    } catch (e) {
      console.error(`demo command failed: ${(e as Error).message}`);
    }
    // Let the demo run's replies print before the instructions.
    await new Promise((r) => setTimeout(r, 6000));
    console.log(`
Send a chat command yourself — this curl is signed for the next 5 minutes, and works once; the
replies (progress, the summary and the report link) appear above, in this terminal:

${signedCurl(chatUrl, 'run disk-check on env=demo with mount=/', thread.url)}
${demoRunId ? `
Once the demo run's final reply is above, run it again where it failed (db-1 only) — the replies follow in this thread too:

${signedCurl(chatUrl, `retry ${demoRunId}`, thread.url)}
` : ''}
or, signing a fresh one each time, with a progress bar:

  npx fleetrun chat "run uptime on env=demo"${demoRunId ? `
  npx fleetrun chat "retry ${demoRunId}"` : ''}

Ctrl-C stops the local cloud.`);
  }
  await closeOnSignals(cloud);
  await thread.close();
}
