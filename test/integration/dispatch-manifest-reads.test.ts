/**
 * The dispatch function reads a run's manifest once to start it and once to stop it (issue 13):
 * startRun is handed the manifest dispatch just read, and a stop reads it once, after its marker.
 * And a run's secrets are sealed once: the manifest keeps the sealed string the request carried.
 * Driven through handleDispatch against the local cloud (OSS and Cloud Assistant through their SDKs),
 * with the bucket's reads counted as the function makes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleDispatch, type DispatchDeps } from '../../shared/chatops/dispatch-run.ts';
import type { DispatchRequestInput } from '../../shared/chatops/dispatch-request.ts';
import { loadCatalog } from '../../shared/config/catalog.ts';
import { parsePolicy } from '../../shared/config/policy.ts';
import { NO_CHAT, readManifest } from '../../shared/pipeline/finish-run.ts';
import { newRunId } from '../../shared/pipeline/start-run.ts';
import { buildRunSpec } from '../../shared/runs/build-run-spec.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import type { ObjectStore } from '../../shared/store/port.ts';
import { PROJECT_ROOT } from '../../local/local-cloud.ts';
import { fleetOf, REGION, startPipelineCloud, waitForObject, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

let pc: PipelineCloud;

beforeAll(async () => {
  pc = await startPipelineCloud(fleetOf('reads', [{ name: 'node', count: 3 }]));
}, 60_000);

afterAll(async () => pc?.close());

/** The bucket as the function sees it, with each key it reads counted. */
function countingStore(store: ObjectStore): { store: ObjectStore; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const counted: ObjectStore = Object.create(store) as ObjectStore;
  const count = (key: string) => reads.set(key, (reads.get(key) ?? 0) + 1);
  counted.get = async (key: string) => {
    count(key);
    return store.get(key);
  };
  // A read made conditional on the ETag (the manifest's) is a read all the same.
  counted.getIfChanged = async (key: string, etag: string | undefined) => {
    count(key);
    return store.getIfChanged(key, etag);
  };
  return { store: counted, reads };
}

function deps(store: ObjectStore): DispatchDeps {
  const replies: string[] = [];
  return {
    assistant: pc.assistant,
    store,
    regionId: REGION,
    sealKey: pc.cloud.sealKey,
    policy: parsePolicy('rules: []\n'),
    sender: { send: async (_target, message) => void replies.push(message.text) },
    chat: NO_CHAT,
    logger: createLogger({ sink: () => {} }),
  };
}

describe('dispatch reads a run manifest once', () => {
  it('to start a run, and once to stop it', async () => {
    const runId = newRunId();
    const start: DispatchRequestInput = {
      version: 1,
      kind: 'run',
      runId,
      requestedBy: { kind: 'api' },
      replyTo: { platform: 'webhook' },
      command: { name: 'sleeper', type: 'RunShellScript', script: 'sleep 5', timeoutSeconds: 60 },
      targets: { tags: { env: 'reads' } },
    };
    const starting = countingStore(pc.store);
    expect(await handleDispatch(start, deps(starting.store))).toEqual({ kind: 'run', runId, state: 'dispatched' });
    expect(starting.reads.get(runKeys.manifest(runId))).toBe(1);
    expect((await readManifest(pc.store, runId))!.invocations).toHaveLength(1);

    const stopping = countingStore(pc.store);
    expect(await handleDispatch({ version: 1, kind: 'stop', runId, requestedBy: { kind: 'api' } }, deps(stopping.store))).toEqual({ kind: 'stop', runId, state: 'stopped' });
    expect(stopping.reads.get(runKeys.manifest(runId))).toBe(1);
    expect(await pc.store.get(runKeys.stopRequest(runId))).toBeDefined();
  }, 60_000);

  it('a stop for a run that does not exist leaves no stop marker behind', async () => {
    const runId = newRunId();
    const outcome = await handleDispatch({ version: 1, kind: 'stop', runId, requestedBy: { kind: 'api' } }, deps(pc.store));
    expect(outcome).toEqual({ kind: 'stop', runId, state: 'invalid', reason: 'no such run' });
    expect(await pc.store.get(runKeys.stopRequest(runId))).toBeUndefined();
  });
});

describe('secrets sealed once', () => {
  it('the manifest holds the sealed string the dispatch request carried, and the script got the value', async () => {
    const catalog = await loadCatalog(`${PROJECT_ROOT}/local/demo/catalog.yaml`);
    const spec = buildRunSpec(catalog, { command: 'secret-probe', with: { token: 'hunter2-sealed-once' }, targets: { tags: { env: 'reads' } }, requestedBy: { kind: 'api' } }, pc.cloud.sealKey);
    expect(spec.command.secretParameters).toEqual(['p_token']);
    expect(spec.command.parameters).toEqual({});
    expect(JSON.stringify(spec)).not.toContain('hunter2');
    const runId = newRunId();
    expect(await handleDispatch({ version: 1, kind: 'run', runId, ...spec }, deps(pc.store))).toEqual({ kind: 'run', runId, state: 'dispatched' });
    expect((await readManifest(pc.store, runId))!.sealedSecrets).toBe(spec.command.sealedSecrets);
    const result = JSON.parse((await waitForObject(pc.store, runKeys.summaryJson(runId), 30_000)).toString()) as { instances: { outputTail: string }[] };
    // The script printed the token; the summary shows its length, and the token only redacted.
    expect(result.instances.map((i) => i.outputTail)).toEqual(Array(3).fill(`the token is: ***\nits length is: ${'hunter2-sealed-once'.length}\n`));
  }, 60_000);
});
