/**
 * The chat tests' local cloud: a pipeline cloud whose chatops reads the test's own policy file, a
 * chat thread the demo webhook's replies go to, and chatops's HTTP trigger to post commands at.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_CHAT } from '../../local/local-cloud.ts';
import { startChatThread, type ChatThread, type ThreadReply } from '../../local/cli/chat-thread.ts';
import { startPipelineCloud, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

export interface ChatCloud {
  pc: PipelineCloud;
  thread: ChatThread;
  /** chatops's HTTP trigger, for postWebhook (demo-webhook.ts). */
  chatUrl: string;
  /** Stops the cloud and the thread, and removes the policy's folder. */
  close(): Promise<void>;
}

export async function startChatCloud(fleetYaml: string, o: { policy: string; onReply: (reply: ThreadReply) => void; functionEnv?: Record<string, string> }): Promise<ChatCloud> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleetrun-chat-cloud-'));
  const policyFile = path.join(dir, 'policy.yaml');
  writeFileSync(policyFile, o.policy);
  let thread: ChatThread | undefined;
  let pc: PipelineCloud | undefined;
  const close = async () => {
    await pc?.close();
    await thread?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    thread = await startChatThread(DEMO_CHAT.FLEETRUN_WEBHOOK_SECRET, o.onReply);
    pc = await startPipelineCloud(fleetYaml, { chat: { FLEETRUN_POLICY_FILE: policyFile }, ...(o.functionEnv ? { functionEnv: o.functionEnv } : {}) });
    return { pc, thread, chatUrl: pc.cloud.fc!.httpEndpoints.get('fleetrun-chatops')!, close };
  } catch (e) {
    await close();
    throw e;
  }
}
