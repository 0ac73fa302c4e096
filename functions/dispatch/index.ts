// Asynchronous invoke from chatops: start (fan out) or stop a run, and tell the chat thread.
import { z } from 'zod';
import { chatReplier, chatSender } from '../../shared/chatops/chat-replies.ts';
import { loadChatFiles } from '../../shared/chatops/config-files.ts';
import { handleDispatch } from '../../shared/chatops/dispatch-run.ts';
import { lazyAssistant } from '../../shared/cloud-assistant/assistant-client.ts';
import { chatSecrets } from '../../shared/config/chat-env.ts';
import { parseDispatchEnv } from '../../shared/config/function-envs.ts';
import { invocationEnvelope } from '../../shared/runtime/envelopes/invocation.ts';
import { fc3EventHandler } from '../../shared/runtime/fc3-event.ts';
import { functionDeps } from '../../shared/runtime/function-deps.ts';
import { storeFor } from '../../shared/store/store-client.ts';

const env = parseDispatchEnv(process.env);
const deps = functionDeps(env, { secrets: chatSecrets(env) })
  .perProcess('sender', chatSender)
  .perCredentials('store', storeFor)
  .perCredentials('assistant', lazyAssistant)
  .perInvocation('chat', chatReplier);

// Every value reaches handleDispatch, which checks the request itself and answers a malformed one as invalid.
export const handler = fc3EventHandler(
  invocationEnvelope(z.unknown()),
  async (requests, context) => {
    const { assistant, ...d } = deps.for(context);
    const { policy } = await loadChatFiles(env);
    const outcomes = [];
    for (const request of requests) {
      // As handleDispatch treats a malformed request: retrying cannot help, so log it and go on.
      if (!request.ok) {
        d.logger.error('malformed dispatch request', { reason: request.reason });
        continue;
      }
      outcomes.push(await handleDispatch(request.record, { ...d, assistant: await assistant(), regionId: env.FLEETRUN_REGION, outputBucket: env.FLEETRUN_OUTPUT_BUCKET, sealKey: env.FLEETRUN_SEAL_KEY, policy }));
    }
    return outcomes;
  },
  { functionName: 'fleetrun-dispatch', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
);
