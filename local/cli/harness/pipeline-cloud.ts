/**
 * The whole local cloud with s.yaml's functions, and the clients a test or a benchmark drives it
 * with: it starts runs through the library (startRun) and reads the runs bucket through the store,
 * as a user of the deployed product would, so it lives in local/cli/harness/ and not among the emulators.
 */
import path from 'node:path';
import { EcsCloudAssistant } from '../../../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { NO_CHAT } from '../../../shared/pipeline/finish-run.ts';
import { startRun, type StartRunRequest } from '../../../shared/pipeline/start-run.ts';
import type { RunManifest } from '../../../shared/runs/manifest.ts';
import { createLogger } from '../../../shared/runtime/logger.ts';
import { AliOssStore } from '../../../shared/store/ali-oss-store.ts';
import type { ObjectStore } from '../../../shared/store/port.ts';
import { parseFleet } from '../../ecs/fleet.ts';
import { PROJECT_ROOT, startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../local-cloud.ts';

export const REGION = 'cn-hangzhou';
const KEY = { id: 'pipeline-key', secret: 'pipeline-secret-value-0001' };

export interface PipelineCloud {
  cloud: LocalCloud;
  store: AliOssStore;
  assistant: EcsCloudAssistant;
  run(request: StartRunRequest, options?: { outputBucket?: boolean }): Promise<RunManifest>;
  close(): Promise<void>;
}

export async function startPipelineCloud(fleetYaml: string, options: Partial<LocalCloudOptions> = {}): Promise<PipelineCloud> {
  const cloud = await startLocalCloud({
    fleet: parseFleet(fleetYaml),
    accessKeys: { [KEY.id]: KEY.secret },
    sYamlPath: path.join(PROJECT_ROOT, 's.yaml'),
    timers: false,
    ...options,
  });
  const credentials = { accessKeyId: KEY.id, accessKeySecret: KEY.secret };
  const store = new AliOssStore({ bucket: 'fleetrun-runs', region: 'oss-cn-hangzhou', credentials, endpoint: cloud.oss.endpoint });
  const assistant = await EcsCloudAssistant.create({ regionId: REGION, credentials, endpoint: cloud.ecs.endpoint, protocol: 'http' });
  return {
    cloud,
    store,
    assistant,
    run: (request, o = {}) =>
      startRun(request, {
        assistant,
        store,
        regionId: REGION,
        outputBucket: o.outputBucket === false ? undefined : 'fleetrun-output',
        sealKey: cloud.sealKey,
        chat: NO_CHAT,
        logger: createLogger({ sink: () => {} }),
      }),
    close: () => cloud.close(),
  };
}

export async function waitForObject(store: ObjectStore, key: string, ms: number): Promise<Buffer> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const body = await store.get(key);
    if (body) return body;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${key} did not appear within ${ms} ms`);
}

export async function waitUntil(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A fleet file of `n` Running instances `i-<prefix>NNNNNN` named `<name>-NN`, plus extra lines. */
export function fleetOf(prefix: string, groups: { name: string; count: number; extra?: string }[]): string {
  const lines: string[] = [];
  let n = 0;
  for (const g of groups) {
    for (let i = 0; i < g.count; i++, n++) lines.push(`  - { id: i-${prefix}${String(n).padStart(6, '0')}, name: ${g.name}-${String(i).padStart(2, '0')}, tags: { env: ${prefix} }${g.extra ? `, ${g.extra}` : ''} }`);
  }
  return `instances:\n${lines.join('\n')}\n`;
}
