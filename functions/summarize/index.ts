// MNS queue trigger (EventBridge event streaming) → per-instance results and run summaries in OSS.
import { parseFunctionEnv } from '../../shared/config/env.ts';
import { storeFor } from '../../shared/pipeline/clients.ts';
import { perCredentials } from '../../shared/pipeline/deps.ts';
import { NO_CHAT } from '../../shared/pipeline/finish-run.ts';
import { handleResultMessages } from '../../shared/pipeline/summarize.ts';
import { fc3EventHandler } from '../../shared/runtime/fc3-event.ts';

const env = parseFunctionEnv(process.env);
const store = perCredentials((credentials) => storeFor(env, credentials));

export const handler = fc3EventHandler(
  async (events, context) => handleResultMessages(events, { store: store(context), chat: NO_CHAT, logger: context.logger }),
  { functionName: 'fleetrun-summarize', region: env.FLEETRUN_REGION, accountId: env.FLEETRUN_ACCOUNT_ID },
);
