/**
 * The baseline fleetrun replaces: RunCommand, then DescribeInvocations with IncludeOutput every few
 * seconds per InvokeId (paging with NextToken) until every instance is final — the loop people
 * write today — storing each result as it turns final and, at the end, the same summary the event
 * path writes.
 */
import { isFinal } from '../shared/cloud-assistant/statuses.ts';
import type { CloudAssistant } from '../shared/cloud-assistant/port.ts';
import { finishIfComplete, NO_CHAT } from '../shared/pipeline/finish-run.ts';
import { resultFromService } from '../shared/pipeline/service-result.ts';
import { runKeys } from '../shared/runs/keys.ts';
import { runManifestSchema } from '../shared/runs/manifest.ts';
import { createLogger } from '../shared/runtime/logger.ts';
import type { ObjectStore } from '../shared/store/port.ts';

export interface PollerRequest {
  runId: string;
  name: string;
  script: string;
  timeoutSeconds: number;
  instanceIds: string[];
  intervalMs: number;
}

export interface PollerDeps {
  assistant: CloudAssistant;
  store: ObjectStore;
  regionId: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the command the polling way; resolves once the summary is written. Returns the read calls made. */
export async function pollRun(request: PollerRequest, deps: PollerDeps): Promise<{ readCalls: number }> {
  const manifest = runManifestSchema.parse({
    version: 1,
    runId: request.runId,
    createdAt: new Date().toISOString(),
    requestedBy: { kind: 'cli', user: 'poller' },
    command: { name: request.name, type: 'RunShellScript', timeoutSeconds: request.timeoutSeconds },
    targets: request.instanceIds,
    output: { mode: 'fetch' },
  });
  await deps.store.put(runKeys.manifest(manifest.runId), JSON.stringify(manifest), { contentType: 'application/json' });

  const invokeIds: string[] = [];
  for (let i = 0; i < request.instanceIds.length; i += 100) {
    const { invokeId } = await deps.assistant.runCommand({
      RegionId: deps.regionId,
      Type: 'RunShellScript',
      CommandContent: request.script,
      // Built-in parameters ({{ACS::InstanceName}}) are filled in only with parameters enabled.
      EnableParameter: true,
      InstanceId: request.instanceIds.slice(i, i + 100),
      Timeout: request.timeoutSeconds,
    });
    invokeIds.push(invokeId);
  }

  let readCalls = 0;
  await Promise.all(
    invokeIds.map(async (invokeId) => {
      const stored = new Set<string>();
      let remaining = Number.POSITIVE_INFINITY;
      while (remaining > 0) {
        await sleep(request.intervalMs);
        remaining = 0;
        let nextToken: string | undefined;
        do {
          readCalls++;
          const page = await deps.assistant.describeInvocations({ RegionId: deps.regionId, InvokeId: invokeId, IncludeOutput: true, ContentEncoding: 'PlainText', MaxResults: 50, ...(nextToken ? { NextToken: nextToken } : {}) });
          for (const inv of page.items) {
            for (const r of inv.instances) {
              if (!isFinal(r.status)) remaining++;
              if (!isFinal(r.status) || stored.has(r.instanceId)) continue;
              // Events carry the invocation; DescribeInvocations' per-instance records do not.
              const result = resultFromService(manifest.runId, { ...r, invokeId }, inv.commandId);
              await deps.store.put(runKeys.result(manifest.runId, r.instanceId), `${JSON.stringify(result)}\n`, { contentType: 'application/json', forbidOverwrite: true });
              stored.add(r.instanceId);
            }
          }
          nextToken = page.nextToken;
        } while (nextToken);
      }
    }),
  );
  const outcome = await finishIfComplete(manifest, { store: deps.store, chat: NO_CHAT, logger: createLogger({ sink: () => {} }) });
  if (outcome.state !== 'complete') throw new Error(`the polled run ${manifest.runId} is missing results (${outcome.have}/${outcome.want})`);
  return { readCalls };
}
