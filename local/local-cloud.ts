/**
 * The whole local cloud in one process. This issue brings the ECS Cloud Assistant; the event
 * pipeline, MNS, OSS and the FC host join it in later ones.
 */
import type { FleetInstance } from './ecs/fleet.ts';
import { startEcsEmulator, type EcsEmulator, type EcsEmulatorOptions } from './ecs/server.ts';

export interface LocalCloudOptions {
  fleet: FleetInstance[];
  accessKeys: Record<string, string>;
  regionId?: string;
  ecsPort?: number;
  sandboxRoot?: string;
  log?: (line: string) => void;
  ecs?: Partial<EcsEmulatorOptions>;
}

export interface LocalCloud {
  ecs: EcsEmulator;
  /** One entry per service: its name and `127.0.0.1:PORT` endpoint. */
  services: { name: string; endpoint: string }[];
  close(): Promise<void>;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const ecs = await startEcsEmulator({
    fleet: options.fleet,
    accessKeys: options.accessKeys,
    ...(options.regionId ? { regionId: options.regionId } : {}),
    ...(options.ecsPort !== undefined ? { port: options.ecsPort } : {}),
    ...(options.sandboxRoot ? { sandboxRoot: options.sandboxRoot } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...options.ecs,
  });
  return {
    ecs,
    services: [{ name: 'ecs', endpoint: ecs.endpoint }],
    close: () => ecs.close(),
  };
}
