/**
 * The whole local cloud in one process: ECS Cloud Assistant, OSS, MNS, the event bus and the FC
 * host serving s.yaml. Each service listens on its own loopback port and speaks its real wire
 * protocol; the functions run in their own processes and reach the services through the official
 * SDKs, exactly as they would in the cloud.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { delaySampler, NO_DELAY, type DelayDistribution } from './delay-distribution.ts';
import { EventBus, type Chaos } from './eventbridge/bus.ts';
import type { FleetInstance } from './ecs/fleet.ts';
import { startEcsEmulator, type EcsEmulator, type EcsEmulatorOptions } from './ecs/server.ts';
import { OutputDeliveryError, type OutputDelivery } from './ecs/output-delivery.ts';
import { startFcHost, type FcHost } from './fc/host.ts';
import { loadSYaml, type SYaml } from './fc/s-yaml.ts';
import { startMnsEmulator, type MnsEmulator } from './mns/server.ts';
import { startOssEmulator, type OssEmulator, type PresetBucket } from './oss/server.ts';
import { deployedRoles } from './ram/deployment.ts';
import { RamIdentities } from './ram/identities.ts';
import { declaredResources, type DeclaredResources } from './ros/declared-resources.ts';
import { seededRandom } from './seeded-random.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface LocalCloudOptions {
  fleet: FleetInstance[];
  accessKeys: Record<string, string>;
  regionId?: string;
  accountId?: string;
  /** State of MNS and OSS (durable across restarts); a temporary folder, removed on close, when omitted. */
  dataDir?: string;
  /**
   * fsync every OSS object and MNS journal write before answering (default false): the local cloud's
   * state survives its own restarts and crashes either way (every write is in the file before the
   * answer); the fsync only adds surviving a power cut, and costs most of a burst's disk time.
   */
  fsync?: boolean;
  ports?: { ecs?: number; mns?: number; oss?: number };
  sandboxRoot?: string;
  log?: (line: string) => void;
  ecs?: Partial<EcsEmulatorOptions>;
  /** The deployment to serve; no functions when omitted. */
  sYamlPath?: string;
  functionsMode?: 'source' | 'bundle';
  /** What the event bus does to TaskCompleted events: drop, duplicate, reorder. */
  chaos?: Partial<Chaos>;
  /** Delivery delays the real cloud has but documents nowhere (docs/platform-facts.md): off (0) by default. */
  delays?: { eventBridge?: DelayDistribution; eventStreaming?: DelayDistribution; outputObject?: DelayDistribution; seed?: number };
  /**
   * Whether an `eventSourceType: Default` trigger's runOptions.batchWindow batches (unconfirmed:
   * docs/platform-facts.md §5.5): 'honoured' (default) or 'ignored' (one event per invocation).
   */
  defaultTriggerBatchWindow?: 'honoured' | 'ignored';
  timers?: boolean;
  /** Extra environment for every function (overrides s.yaml), e.g. a shorter reconcile grace. */
  functionEnv?: Record<string, string>;
  /**
   * RAM (docs/ram.md): on by default. Each function runs with STS credentials of the role its s.yaml
   * `role` names, and every ECS, OSS, MNS and FC call made with them is checked against that role's
   * policies — the roles s.yaml's ros stacks declare (fleetrun-fc-role with deploy/ram-policy.json,
   * trusting only FC); `policies` replaces a role's policies (role name → documents). `false` turns
   * enforcement off: functions then get the first of `accessKeys`. The `accessKeys` themselves are never restricted.
   */
  ram?: false | { policies?: Record<string, unknown[]> };
  /** How long a lifecycle day lasts in the local OSS, and how often it sweeps (test knobs: a run's expiry seen in ms; default a real day, every minute). */
  ossLifecycle?: { dayMs?: number; sweepMs?: number };
  /** Visibility timeout of the queues the cloud creates, in seconds (overrides the stack's). */
  queueVisibilitySeconds?: number;
  /** Ports of HTTP-triggered functions (functionName → port; 0 or absent: any free port) and of the FC API. */
  fcPorts?: { http?: Record<string, number>; api?: number };
  /**
   * Instances one function may have at once (the FC host's maxInstancesPerFunction). Default: twice
   * this machine's cores — the local machine's capacity, not an FC limit (FC allows 90 by default):
   * each instance is a Node process, and 90 starting at once on a 2-core machine starve the local
   * services past the SDKs' 5 s connect timeout. Past the bound an invocation waits for a free instance;
   * one invocation per instance at a time, FC 3.0's rule, holds either way.
   */
  fcMaxInstancesPerFunction?: number;
  /** Chat platform secrets, reply origins and the catalog, policy and job files the functions get (default: the demo ones). */
  chat?: Partial<Record<'FLEETRUN_SLACK_SIGNING_SECRET' | 'FLEETRUN_DINGTALK_APP_SECRET' | 'FLEETRUN_LARK_ENCRYPT_KEY' | 'FLEETRUN_LARK_VERIFICATION_TOKEN' | 'FLEETRUN_WEBHOOK_SECRET' | 'FLEETRUN_SLACK_RESPONSE_ORIGINS' | 'FLEETRUN_DINGTALK_WEBHOOK_ORIGINS' | 'FLEETRUN_WEBHOOK_CALLBACK_ORIGINS' | 'FLEETRUN_CATALOG_FILE' | 'FLEETRUN_POLICY_FILE' | 'FLEETRUN_JOBS_FILE', string>>;
}

/** The local machine's share of instances per function (see `fcMaxInstancesPerFunction`). */
export const LOCAL_INSTANCES_PER_FUNCTION = Math.max(2, 2 * availableParallelism());

/**
 * The loopback ports the local chat threads (local/cli/chat-thread.ts: npm start's, `fleetrun
 * chat`'s) listen on, each taking the first one free. The demo lists exactly their origins as the
 * webhook's callback origins, as a deployment lists its callback server's, so the functions post
 * replies to nothing else on this machine — not the emulators' control planes, which listen on
 * ports the system picks. The range is below every system's ephemeral range (Linux's starts at
 * 32768, macOS's and Windows' at 49152), so no such listener can land on one; sixteen is more
 * threads than npm start, `fleetrun chat` and two test workers hold at once. A choice of the local
 * demo, not a limit of anything.
 */
export const CHAT_THREAD_PORTS: readonly number[] = Array.from({ length: 16 }, (_, i) => 28_760 + i);

/**
 * Chat secrets of the local demo; local use only (the README says so). No eight characters in a row
 * of one are a word the logs print: the functions hide every such run of a secret (redaction.ts), and
 * with `fleetrun-demo-…` secrets every "fleetrun" in a log line read `***`.
 */
export const DEMO_CHAT = {
  FLEETRUN_WEBHOOK_SECRET: 'demo-whk-5c1e9a7f3b',
  FLEETRUN_SLACK_SIGNING_SECRET: 'demo-slk-8d2f4e6a1c',
  FLEETRUN_DINGTALK_APP_SECRET: 'demo-dtk-3b7e9c2a5f',
  FLEETRUN_LARK_ENCRYPT_KEY: 'demo-lrk-6a4c8e1f9d',
  /** Webhook replies go to the local chat threads only (CHAT_THREAD_PORTS). */
  FLEETRUN_WEBHOOK_CALLBACK_ORIGINS: CHAT_THREAD_PORTS.map((port) => `http://127.0.0.1:${port}`).join(','),
} as const;

export interface LocalCloud {
  ecs: EcsEmulator;
  oss: OssEmulator;
  mns: MnsEmulator;
  bus: EventBus;
  fc: FcHost | undefined;
  sYaml: SYaml | undefined;
  /** What s.yaml's ros stacks declare and the local cloud created: buckets, queues, roles, service-linked roles. */
  resources: DeclaredResources;
  /** One entry per service: its name and endpoint. */
  services: { name: string; endpoint: string }[];
  /** The first of the user's keys: unrestricted; what functions use when RAM is off. */
  serviceKey: { id: string; secret: string };
  /** The local RAM (roles, their policies, issued keys); undefined when `ram: false`. Tests swap a role's policies with it. */
  ram: RamIdentities | undefined;
  /** The key the functions seal secret parameters with (FLEETRUN_SEAL_KEY, generated when unset). */
  sealKey: string;
  close(): Promise<void>;
}

/** A declared bucket as the local OSS creates it: ROS's LifecycleConfiguration rules in ali-oss's rule shape. */
function ossPreset(bucket: DeclaredResources['buckets'][number]): PresetBucket {
  const time = (t: { Days?: number | undefined; CreatedBeforeDate?: string | undefined } | undefined) =>
    t && { ...(t.Days !== undefined ? { days: t.Days } : {}), ...(t.CreatedBeforeDate !== undefined ? { createdBeforeDate: t.CreatedBeforeDate } : {}) };
  return {
    name: bucket.name,
    acl: bucket.acl,
    lifecycle: bucket.lifecycle.map((r) => ({
      ...(r.ID !== undefined ? { id: r.ID } : {}),
      prefix: r.Prefix,
      status: r.Status,
      ...(r.Expiration ? { expiration: time(r.Expiration)! } : {}),
      ...(r.AbortMultipartUpload ? { abortMultipartUpload: time(r.AbortMultipartUpload)! } : {}),
    })),
  };
}

function lifecycleKnobs(o: LocalCloudOptions['ossLifecycle']): { lifecycleDayMs?: number; lifecycleSweepMs?: number } {
  return { ...(o?.dayMs !== undefined ? { lifecycleDayMs: o.dayMs } : {}), ...(o?.sweepMs !== undefined ? { lifecycleSweepMs: o.sweepMs } : {}) };
}

/** Cloud Assistant writes outputs into the local OSS the way the service writes into a customer's bucket. */
function ossDelivery(oss: OssEmulator): OutputDelivery {
  return {
    async bucketInfo(bucket) {
      const info = oss.store.bucketInfo(bucket);
      return info && { region: info.region.replace(/^oss-/, ''), ownerAccountId: info.ownerAccountId };
    },
    async put(bucket, key, body) {
      // While a restart has OSS down, a delivery fails as it would over the network.
      if (!oss.up) throw new OutputDeliveryError('OssServiceUnavailable', 'the local OSS is restarting');
      if (!oss.store.hasBucket(bucket)) throw new OutputDeliveryError('BucketNotFound', `bucket ${bucket} does not exist`);
      await oss.store.put(bucket, key, typeof body === 'string' ? Buffer.from(body) : body, { contentType: 'text/plain; charset=utf-8' });
    },
  };
}

/** Seeds of the three delays, each its own stream of the one seed, so turning one on changes none of the others' draws. */
const DELAY_STREAMS = { eventBridge: 0x2545f491, eventStreaming: 0x9e3779b9, outputObject: 0x85ebca6b } as const;

function isNoDelay(d: DelayDistribution | undefined): boolean {
  return d === undefined || (d.kind === 'fixed' && d.ms === 0);
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const regionId = options.regionId ?? 'cn-hangzhou';
  const accountId = options.accountId ?? '1234567890123456';
  const log = options.log ?? (() => {});
  const ownData = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'fleetrun-cloud-')));
  const [keyId, keySecret] = Object.entries(options.accessKeys)[0] ?? [];
  if (!keyId || !keySecret) throw new Error('the local cloud needs at least one access key');
  const sealKey = process.env.FLEETRUN_SEAL_KEY ?? randomBytes(24).toString('hex');
  // One key table for every service, read live: the user's keys plus the STS keys RAM issues to roles.
  const keys: Record<string, string> = { ...options.accessKeys };
  const ramOption = options.ram === false ? undefined : (options.ram ?? {});
  const ram = ramOption ? new RamIdentities({ accountId, keys }) : undefined;
  const sYaml = options.sYamlPath ? await loadSYaml(options.sYamlPath, { env: { ...process.env, FLEETRUN_SEAL_KEY: sealKey }, config: { AccountID: accountId } }) : undefined;
  // What `s deploy` would create before the functions: the stacks' buckets, queues and roles.
  const resources = await declaredResources(sYaml?.stacks ?? []);
  if (sYaml && sYaml.stacks.length === 0) log(`${options.sYamlPath} declares no ros stack: no bucket, queue or role is created for its functions`);
  if (ram) {
    for (const [role, declared] of Object.entries(deployedRoles(sYaml ?? { stacks: [] }))) {
      ram.setPolicies(role, declared.policies);
      ram.setTrustPolicy(role, declared.trustPolicy, declared.source);
    }
    for (const [role, docs] of Object.entries(ramOption?.policies ?? {})) ram.setPolicies(role, docs.map((document, i) => ({ document, source: `${role} policy ${i + 1}` })));
  }
  const authorize = ram ? { authorize: ram.authorize } : {};
  const delays = options.delays ?? {};
  const delaySeed = (stream: keyof typeof DELAY_STREAMS) => ((delays.seed ?? 1) ^ DELAY_STREAMS[stream]) >>> 0;
  // Checked before anything starts: a nonsensical distribution refuses the cloud, not its first event.
  const outputObjectDelay = isNoDelay(delays.outputObject) ? undefined : delaySampler(delays.outputObject!, seededRandom(delaySeed('outputObject')));
  const eventStreamingDelay = isNoDelay(delays.eventStreaming) ? undefined : { distribution: delays.eventStreaming!, seed: delaySeed('eventStreaming') };
  const bus = new EventBus(options.chaos, log, { distribution: delays.eventBridge ?? NO_DELAY, seed: delaySeed('eventBridge') });

  const started: { close(): Promise<void> }[] = [];
  try {
    const oss = await startOssEmulator({ accessKeys: keys, ...authorize, dataDir: path.join(dataDir, 'oss'), buckets: resources.buckets.map(ossPreset), ...lifecycleKnobs(options.ossLifecycle), port: options.ports?.oss ?? 0, accountId, log, fsync: options.fsync ?? false });
    started.push(oss);
    const mns = await startMnsEmulator({
      accessKeys: keys,
      ...authorize,
      regionId,
      dataDir: path.join(dataDir, 'mns'),
      accountId,
      port: options.ports?.mns ?? 0,
      queues: resources.queues.map(({ name, attributes }) => ({ name, attributes: { ...attributes, ...(options.queueVisibilitySeconds !== undefined ? { VisibilityTimeout: options.queueVisibilitySeconds } : {}) } })),
      log,
      fsync: options.fsync ?? false,
    });
    started.push(mns);
    const ecs = await startEcsEmulator({
      fleet: options.fleet,
      accessKeys: keys,
      ...authorize,
      regionId,
      accountId,
      port: options.ports?.ecs ?? 0,
      outputDelivery: ossDelivery(oss),
      ...(outputObjectDelay ? { outputObjectDelay } : {}),
      // The deployment declares Cloud Assistant's service-linked role (deploy/cloud-assistant-role).
      // `ecs: { slrExists: false }` (or `ecs.serviceLinkedRole.delete()`) shows an account without it, whose
      // first delivery the functions' role makes possible with the one ram:CreateServiceLinkedRole its policy grants.
      slrExists: resources.serviceLinkedRoles.includes('archiving.ecs.aliyuncs.com'),
      ...(options.sandboxRoot ? { sandboxRoot: options.sandboxRoot } : {}),
      log,
      ...options.ecs,
    });
    started.push(ecs);
    ecs.events.subscribe((event) => bus.publish(event));
    const fc = sYaml
      ? await startFcHost({
          sYaml,
          projectRoot: path.dirname(path.resolve(options.sYamlPath!)),
          mode: options.functionsMode ?? 'source',
          env: {
            FLEETRUN_REGION: regionId,
            FLEETRUN_ACCOUNT_ID: accountId,
            FLEETRUN_ECS_ENDPOINT: ecs.endpoint,
            FLEETRUN_ECS_PROTOCOL: 'http',
            FLEETRUN_MNS_ENDPOINT: mns.endpoint,
            FLEETRUN_OSS_ENDPOINT: oss.endpoint,
            FLEETRUN_SEAL_KEY: sealKey,
            FLEETRUN_FC_ENDPOINT: '',
            FLEETRUN_CATALOG_FILE: path.join(PROJECT_ROOT, 'local/demo/catalog.yaml'),
            FLEETRUN_POLICY_FILE: path.join(PROJECT_ROOT, 'local/demo/policy.yaml'),
            FLEETRUN_JOBS_FILE: path.join(PROJECT_ROOT, 'local/demo/jobs.yaml'),
            ...DEMO_CHAT,
            ...options.chat,
            ...options.functionEnv,
          },
          http: { ports: options.fcPorts?.http ?? {} },
          invokeApi: { accessKeys: keys, ...(options.fcPorts?.api !== undefined ? { port: options.fcPorts.api } : {}) },
          // The platform's own clients (the event-streaming MNS consumer) use these: FC's service-linked role, unrestricted.
          credentials: { accessKeyId: keyId, accessKeySecret: keySecret },
          ...(ram ? { roleCredentials: (role: string) => ram.credentialsFor(role, 'fc.aliyuncs.com'), authorize: ram.authorize } : {}),
          accountId,
          bus,
          mns: { endpoint: mns.endpoint },
          ...(eventStreamingDelay ? { eventStreamingDelay } : {}),
          ...(options.defaultTriggerBatchWindow ? { defaultTriggerBatchWindow: options.defaultTriggerBatchWindow } : {}),
          timers: options.timers ?? true,
          maxInstancesPerFunction: options.fcMaxInstancesPerFunction ?? LOCAL_INSTANCES_PER_FUNCTION,
          log,
        })
      : undefined;
    if (fc) started.push(fc);
    // Closed first: no event travels on into functions being stopped.
    started.push({ close: async () => bus.close() });
    // FC 3.0 gives an HTTP trigger its URL at creation; on the cloud it reaches the functions as
    // FLEETRUN_PUBLIC_URL after deploy, here the local trigger's is handed to every function (workers start lazily).
    const chatopsUrl = fc?.httpEndpoints.get('fleetrun-chatops');
    if (fc && chatopsUrl && options.functionEnv?.FLEETRUN_PUBLIC_URL === undefined) for (const f of fc.functions.values()) f.options.env.FLEETRUN_PUBLIC_URL = chatopsUrl;
    return {
      ecs,
      oss,
      mns,
      bus,
      fc,
      sYaml,
      resources,
      serviceKey: { id: keyId, secret: keySecret },
      ram,
      sealKey,
      services: [
        { name: 'ecs', endpoint: `http://${ecs.endpoint}` },
        { name: 'oss', endpoint: oss.endpoint },
        { name: 'mns', endpoint: mns.endpoint },
        ...(fc ? [{ name: 'fc', endpoint: `${fc.invokeEndpoint ?? ''} (${fc.functions.size} functions: ${[...fc.functions.keys()].join(', ')})` }] : []),
        ...(fc ? [...fc.httpEndpoints].map(([fn, endpoint]) => ({ name: `http ${fn}`, endpoint })) : []),
      ],
      async close() {
        for (const s of started.reverse()) await s.close();
        if (ownData) await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const s of started.reverse()) await s.close().catch(() => {});
    throw e;
  }
}
