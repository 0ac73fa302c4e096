// Timer trigger: scheduled jobs, hand-offs that never started, then the reconciler (shared/schedule/scheduler-tick.ts).
import { chatReplier, chatSender } from '../../shared/chatops/chat-replies.ts';
import { loadChatFiles } from '../../shared/chatops/config-files.ts';
import { lazyAssistant } from '../../shared/cloud-assistant/assistant-client.ts';
import { chatSecrets } from '../../shared/config/chat-env.ts';
import { parseScheduleEnv } from '../../shared/config/function-envs.ts';
import { queueFor } from '../../shared/queue/queue-client.ts';
import { fc3TimerHandler } from '../../shared/runtime/fc3-timer.ts';
import { functionDeps } from '../../shared/runtime/function-deps.ts';
import { firingTime, schedulerTick } from '../../shared/schedule/scheduler-tick.ts';
import { storeFor } from '../../shared/store/store-client.ts';

const env = parseScheduleEnv(process.env);
const deps = functionDeps(env, { secrets: chatSecrets(env) })
  .perProcess('sender', chatSender)
  .perCredentials('store', storeFor)
  .perCredentials('queue', queueFor)
  .perCredentials('assistant', lazyAssistant)
  .perInvocation('chat', chatReplier);

export const handler = fc3TimerHandler(
  async (tick, context) => {
    const d = deps.for(context);
    const firedAt = firingTime(tick, d.logger);
    // Each step's time is a share of the invocation's, up to the deadline FC's timeout sets.
    return schedulerTick({ ...d, ...(await loadChatFiles(env)), settings: env, deadline: context.deadline }, firedAt);
  },
  { functionName: 'fleetrun-schedule', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
);
