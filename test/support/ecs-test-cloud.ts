/**
 * A local "cloud" for integration tests: the ECS Cloud Assistant emulator on loopback plus the
 * UNMODIFIED `@alicloud/ecs20140526` client pointed at it, and helpers that wait on the emulator's
 * `ecs:CloudAssistant:TaskCompleted` events instead of sleeping.
 */
import { readFileSync } from 'node:fs';
import * as EcsModule from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { parseFleet, type FleetInstance } from '../../local/ecs/fleet.ts';
import { startEcsEmulator, type EcsEmulator, type EcsEmulatorOptions } from '../../local/ecs/server.ts';
import type { TaskCompletedEvent } from '../../local/ecs/task-events.ts';

/** Under vitest the default import is the class; in native ESM it is the namespace. */
export const Ecs: any = (EcsModule as any).default?.default ?? (EcsModule as any).default;
/** The SDK's request models (`new Models.RunCommandRequest({...})`). */
export const Models = EcsModule;

export const ACCESS_KEY_ID = 'LTAI5tFleetrunTest';
export const ACCESS_KEY_SECRET = 'fleetrun-test-secret';
export const REGION = 'cn-hangzhou';

/** The standard test fleet: two Linux instances (one with an extra user), Stopped, agent offline, Windows. */
export const IDS = {
  web1: 'i-test0web0000000001',
  web2: 'i-test0web0000000002',
  stopped: 'i-test0stopped00001',
  offline: 'i-test0offline00001',
  windows: 'i-test0windows00001',
} as const;

export const TEST_FLEET_YAML = `
instances:
  - id: ${IDS.web1}
    name: web-1
    tags: { env: test, role: web }
    users: [root, deploy]
  - id: ${IDS.web2}
    name: web-2
    tags: { env: test, role: db }
  - id: ${IDS.stopped}
    name: stopped-1
    status: Stopped
    tags: { env: test, role: web }
  - id: ${IDS.offline}
    name: offline-1
    agent: { online: false }
    tags: { env: staging }
  - id: ${IDS.windows}
    name: win-1
    osType: windows
    tags: { env: staging, os: windows }
    users: [root, System]
`;

export function testFleet(): FleetInstance[] {
  return parseFleet(TEST_FLEET_YAML, 'test fleet');
}

export interface TestCloudOptions extends Partial<EcsEmulatorOptions> {
  /** Client read timeout in ms (the SDK default of 3 s is too short for loaded CI machines). */
  readTimeout?: number;
}

export interface WaitOptions {
  /** How many events to wait for; default: one per target instance of the invocation. */
  count?: number;
  /** Give up after this long (a deadline, not a sleep). */
  timeoutMs?: number;
}

export interface TestCloud {
  emulator: EcsEmulator;
  /** The real SDK client (typed `any`: the SDK's default export type differs between ESM and CJS). */
  client: any;
  /** Every TaskCompleted event delivered to our subscriber, in delivery order. */
  events: TaskCompletedEvent[];
  /** Makes another SDK client against the same emulator (e.g. with other keys). */
  newClient(overrides?: Record<string, unknown>): any;
  /** Waits until `count` events (default: one per target instance) for the invocation were delivered. */
  waitForFinal(invokeId: string, options?: WaitOptions): Promise<TaskCompletedEvent[]>;
  /** Waits until `count` delivered events satisfy `predicate`. */
  waitForEvents(predicate: (e: TaskCompletedEvent) => boolean, count: number, timeoutMs?: number): Promise<TaskCompletedEvent[]>;
  /** Polls a condition on emulator state (for states that emit no event, e.g. Running). */
  waitUntil(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Runs a shell script with RunCommand and waits for its event(s); returns the InvokeId and events. */
  run(request: Record<string, unknown>, options?: WaitOptions): Promise<{ invokeId: string; commandId: string; events: TaskCompletedEvent[] }>;
  close(): Promise<void>;
}

export async function startTestCloud(options: TestCloudOptions = {}): Promise<TestCloud> {
  const { readTimeout = 10_000, ...emulatorOptions } = options;
  const emulator = await startEcsEmulator({
    fleet: testFleet(),
    accessKeys: { [ACCESS_KEY_ID]: ACCESS_KEY_SECRET },
    regionId: REGION,
    ...emulatorOptions,
  });
  const events: TaskCompletedEvent[] = [];
  const waiters = new Set<() => void>();
  const unsubscribe = emulator.events.subscribe((e) => {
    events.push(e);
    for (const w of [...waiters]) w();
  });

  const newClient = (overrides: Record<string, unknown> = {}) =>
    new Ecs(
      new $OpenApiUtil.Config({
        accessKeyId: ACCESS_KEY_ID,
        accessKeySecret: ACCESS_KEY_SECRET,
        endpoint: emulator.endpoint,
        protocol: 'http',
        regionId: REGION,
        readTimeout,
        connectTimeout: 5_000,
        ...overrides,
      }),
    );
  const client = newClient();

  function waitForEvents(predicate: (e: TaskCompletedEvent) => boolean, count: number, timeoutMs = 15_000): Promise<TaskCompletedEvent[]> {
    return new Promise((resolve, reject) => {
      // Incremental: each delivered event is tested once, so waiting on 10,000 events stays linear.
      const matching: TaskCompletedEvent[] = [];
      let scanned = 0;
      const check = () => {
        for (; scanned < events.length; scanned++) if (predicate(events[scanned]!)) matching.push(events[scanned]!);
        if (matching.length >= count) {
          cleanup();
          resolve(matching);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} events, got ${matching.length}: ${JSON.stringify(matching.slice(0, 20).map((e) => e.data))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  function waitForFinal(invokeId: string, o: WaitOptions = {}): Promise<TaskCompletedEvent[]> {
    const count = o.count ?? emulator.service.invocations.get(invokeId)?.instances.size ?? 1;
    return waitForEvents((e) => e.data.invokeId === invokeId, count, o.timeoutMs);
  }

  async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async function run(request: Record<string, unknown>, o: WaitOptions = {}) {
    const res = await client.runCommand(
      new EcsModule.RunCommandRequest({ regionId: REGION, type: 'RunShellScript', instanceId: [IDS.web1], ...request }),
    );
    const invokeId: string = res.body.invokeId;
    return { invokeId, commandId: res.body.commandId as string, events: await waitForFinal(invokeId, o) };
  }

  return {
    emulator,
    client,
    events,
    newClient,
    waitForFinal,
    waitForEvents,
    waitUntil,
    run,
    async close() {
      unsubscribe();
      await emulator.close();
    },
  };
}

/** Awaits a call that must fail and returns the SDK's error (fails the test if it resolved). */
export async function sdkError(call: Promise<unknown>): Promise<any> {
  try {
    await call;
  } catch (e) {
    return e;
  }
  throw new Error('expected the SDK call to fail, but it succeeded');
}

/** The state letter in /proc/<pid>/stat, or undefined when the process is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Alive = exists and is not a zombie (a reaped-late zombie still answers kill(pid, 0)). */
export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
