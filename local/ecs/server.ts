/**
 * The local ECS Cloud Assistant endpoint: an HTTP server on loopback that the unmodified
 * `@alicloud/ecs20140526` client talks to (`endpoint: '127.0.0.1:PORT', protocol: 'http'`).
 * @see docs/platform-facts.md §4 and §10
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ACTIONS, WRITE_ACTIONS } from './actions/index.ts';
import { FleetAgents, type SyntheticExecutor } from './agent.ts';
import { FaultInjector, type FaultConfigInput } from './faults.ts';
import type { FleetInstance } from './fleet.ts';
import type { OutputDelivery } from './output-delivery.ts';
import { killAllRunning } from './script-runner.ts';
import type { UnseededChecks } from './requests/unseeded-checks.ts';
import { CloudAssistantService } from './service.ts';
import { ServiceLinkedRole } from './service-linked-role.ts';
import { NonceCache, toRawRequest, verifyEcsRequest } from './signature.ts';
import { ALLOW_ALL, type Authorize } from '../ram/access.ts';
import { ecsRequest, accessRequest } from '../ram/requests.ts';
import { EcsApiError, isEcsApiError } from './api-error.ts';
import { TaskEventHub, taskCompletedEvent } from './task-events.ts';
import { structureParams } from './wire.ts';
import { listenHttp, type BufferedExchange } from '../http-listener.ts';

export interface EcsEmulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  fleet: FleetInstance[];
  /** AccessKey id → secret accepted by the signature check. */
  accessKeys: Record<string, string>;
  regionId?: string;
  accountId?: string;
  /** Where instance sandboxes live; a fresh temporary folder (removed on close) when omitted. */
  sandboxRoot?: string;
  faults?: FaultConfigInput;
  /** Run scripts synthetically (no process), e.g. to fan out to 10,000 instances. */
  synthetic?: SyntheticExecutor;
  /** Divides Timeout and periodic intervals; for time-scaled benchmarks. */
  timeScale?: number;
  deliveryDelayMs?: number;
  notRunningInstance?: 'reject-call' | 'abort-instance';
  /** Checks no seed gives (requests/unseeded-checks.ts); none unless named here. */
  unseededChecks?: UnseededChecks;
  documentedEventFieldsOnly?: boolean;
  eventPerPeriodicRun?: boolean;
  /** Where OssOutputDelivery writes (the local OSS service); without it such calls get BucketNotFound. */
  outputDelivery?: OutputDelivery;
  /** Object-key layout of delivered outputs (output-delivery.ts); the real one is undocumented. */
  outputKeyTemplate?: string;
  /** Draws how long after its TaskCompleted event a run's output object lands (agent.ts); absent, it lands before the event. */
  outputObjectDelay?: () => number;
  /** One line per request; defaults to silence (tests) — the CLI passes console.log. */
  log?: (line: string) => void;
  /** The local RAM, asked after the signature checks out; every call is allowed without it. */
  authorize?: Authorize;
  /** Cloud Assistant's service-linked role for OSS delivery exists from the start (default false: the first delivery creates it). */
  slrExists?: boolean;
  /** Seconds creating that role takes, answered meanwhile with ResourceBusy.SlrCreation (unconfirmed; default 1; service-linked-role.ts). */
  slrCreationSeconds?: number;
}

export interface EcsEmulator {
  /** `127.0.0.1:PORT`, the form the ECS SDK's `endpoint` wants (no scheme). */
  endpoint: string;
  port: number;
  events: TaskEventHub;
  agents: FleetAgents;
  service: CloudAssistantService;
  faults: FaultInjector;
  fleet: Map<string, FleetInstance>;
  /** Signed API calls received, by action (whatever their outcome): what benchmarks and tests count. */
  calls: Record<string, number>;
  /** The account's Cloud Assistant service-linked role, which OssOutputDelivery needs (service-linked-role.ts). */
  serviceLinkedRole: ServiceLinkedRole;
  /** Triggers NextRebootOnly / EveryReboot tasks on the instance; returns how many started. */
  reboot(instanceId: string): number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function startEcsEmulator(options: EcsEmulatorOptions): Promise<EcsEmulator> {
  const regionId = options.regionId ?? 'cn-hangzhou';
  const accountId = options.accountId ?? '1234567890123456';
  const ownSandbox = options.sandboxRoot === undefined;
  const sandboxRoot = options.sandboxRoot ?? (await mkdtemp(path.join(tmpdir(), 'fleetrun-ecs-')));
  const fleet = new Map(options.fleet.map((i) => [i.id, i]));
  const events = new TaskEventHub();
  const log = options.log ?? (() => {});
  const eventOptions = { regionId, accountId, documentedFieldsOnly: options.documentedEventFieldsOnly ?? false };
  const agents = new FleetAgents(fleet, {
    regionId,
    accountId,
    sandboxRoot,
    deliveryDelayMs: options.deliveryDelayMs ?? 20,
    synthetic: options.synthetic,
    timeScale: options.timeScale ?? 1,
    eventPerPeriodicRun: options.eventPerPeriodicRun ?? true,
    outputDelivery: options.outputDelivery,
    outputKeyTemplate: options.outputKeyTemplate,
    outputObjectDelay: options.outputObjectDelay,
    onRunFinished: (inv, record, run) => events.publish(taskCompletedEvent(inv, record, run, eventOptions)),
  });
  const service = new CloudAssistantService(fleet, agents, { regionId, notRunningInstance: options.notRunningInstance ?? 'reject-call', unseeded: options.unseededChecks });
  const faults = new FaultInjector(options.faults);
  const nonces = new NonceCache();
  const keys = { secretFor: (id: string) => (Object.hasOwn(options.accessKeys, id) ? options.accessKeys[id] : undefined) };
  const authorize = options.authorize ?? ALLOW_ALL;
  const serviceLinkedRole = new ServiceLinkedRole(accountId, { exists: options.slrExists, creationSeconds: options.slrCreationSeconds });
  const hostId = `ecs.${regionId}.aliyuncs.com`;
  const calls: Record<string, number> = {};

  function send(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function sendError(res: ServerResponse, requestId: string, error: EcsApiError, headers: Record<string, string> = {}): void {
    // The SDK parses every error body as JSON, so errors are never XML or empty (docs/platform-facts.md §4.6).
    send(
      res,
      error.httpStatus,
      {
        RequestId: requestId,
        HostId: hostId,
        Code: error.code,
        Message: error.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${error.code}&product=Ecs&requestId=${requestId}`,
      },
      headers,
    );
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, body: Buffer, requestId: string): Promise<string> {
    const verified = verifyEcsRequest(toRawRequest(req, body), keys, nonces);
    if (!verified.ok) {
      sendError(res, requestId, verified.error);
      return `${verified.error.httpStatus} ${verified.error.code}`;
    }
    const actionName = verified.action ?? '';
    calls[actionName] = (calls[actionName] ?? 0) + 1;
    const access = authorize(accessRequest(verified.accessKeyId, ecsRequest(actionName, verified.params, { regionId, accountId }), req));
    if (!access.allowed) {
      sendError(res, requestId, new EcsApiError('Forbidden.RAM', `(${access.reason})`));
      return `${actionName} 403 Forbidden.RAM`;
    }
    const action = Object.hasOwn(ACTIONS, actionName) ? ACTIONS[actionName] : undefined;
    if (!action) {
      sendError(res, requestId, new EcsApiError('InvalidAction.NotFound', `Action "${actionName}" is not served by the local Cloud Assistant.`));
      return `404 InvalidAction.NotFound ${actionName}`;
    }
    const settings = faults.settings;
    if (settings.latencyMs > 0) await new Promise((r) => setTimeout(r, settings.latencyMs));
    const fate = faults.decide(WRITE_ACTIONS.has(actionName));
    if (fate === 'throttle') {
      sendError(res, requestId, new EcsApiError('Throttling.User'), { 'x-acs-retry-after': String(settings.retryAfterMs) });
      return `${actionName} 400 Throttling.User`;
    }
    if (fate === 'error') {
      sendError(res, requestId, new EcsApiError('ServiceUnavailable'));
      return `${actionName} 503 ServiceUnavailable`;
    }
    if (fate === 'reset') {
      req.socket.destroy();
      return `${actionName} connection closed without an answer`;
    }
    const replaysBefore = service.idempotentReplays;
    const result = await action(structureParams({ ...verified.params }), { service, agents, regionId, outputDelivery: options.outputDelivery, caller: { accessKeyId: verified.accessKeyId }, authorize, accountId, serviceLinkedRole });
    if (fate === 'error-after-apply' && service.idempotentReplays > replaysBefore) {
      // A ClientToken replay applied nothing, so there is no applied write whose answer to lose.
      faults.withdraw(fate);
    } else if (fate === 'error-after-apply') {
      sendError(res, requestId, new EcsApiError('ServiceUnavailable'));
      return `${actionName} 503 ServiceUnavailable (after applying)`;
    }
    send(res, 200, { RequestId: requestId, ...result });
    return `${actionName} 200`;
  }

  /** The fleet's control plane, unsigned: loopback tools and tests use it, no SDK does. */
  function handleControl(req: IncomingMessage, res: ServerResponse, url: URL): string {
    const reboot = /^\/_fleet\/instances\/([^/]+)\/reboot$/.exec(url.pathname);
    if (req.method === 'POST' && reboot) {
      const id = decodeURIComponent(reboot[1]!);
      if (!fleet.has(id)) return (send(res, 404, { error: `no instance ${id}` }), `reboot ${id} 404`);
      send(res, 200, { instanceId: id, started: emulator.reboot(id) });
      return `reboot ${id} 200`;
    }
    const agent = /^\/_fleet\/instances\/([^/]+)\/agent$/.exec(url.pathname);
    if (req.method === 'POST' && agent) {
      const instance = fleet.get(decodeURIComponent(agent[1]!));
      if (!instance) return (send(res, 404, { error: 'no such instance' }), 'agent 404');
      instance.agent.online = url.searchParams.get('online') !== 'false';
      send(res, 200, { instanceId: instance.id, online: instance.agent.online });
      return `agent ${instance.id} online=${instance.agent.online}`;
    }
    if (req.method === 'GET' && url.pathname === '/_fleet/executions') {
      send(res, 200, { executions: agents.executionLog });
      return 'executions 200';
    }
    if (req.method === 'GET' && url.pathname === '/_fleet/instances') {
      send(res, 200, { instances: [...fleet.values()] });
      return 'instances 200';
    }
    send(res, 404, { error: 'unknown control path' });
    return `${req.method} ${url.pathname} 404`;
  }

  /** Routes one request; the catch turns what a handler threw into the API's JSON error. */
  async function handle({ req, res, requestId, body, oversize }: BufferedExchange): Promise<string> {
    try {
      const url = new URL(req.url ?? '/', 'http://local');
      if (url.pathname.startsWith('/_fleet/')) return handleControl(req, res, url);
      if (oversize) return (sendError(res, requestId, new EcsApiError('InvalidParameter', 'The request body is larger than 1 MB.')), '400 body too large');
      return await handleApi(req, res, body, requestId);
    } catch (e) {
      if (isEcsApiError(e)) {
        sendError(res, requestId, e);
        return `${e.httpStatus} ${e.code}`;
      }
      console.error('[ecs] internal error', e);
      sendError(res, requestId, new EcsApiError('InternalError.Dispatch', 'The local Cloud Assistant failed; see its log.'));
      return '500 InternalError.Dispatch';
    }
  }

  const listener = await listenHttp({
    host: options.host,
    port: options.port,
    maxHeaderSize: 256 * 1024,
    body: { maxBytes: MAX_BODY_BYTES },
    requestId: () => randomUUID().toUpperCase(),
    handle,
    log,
    logPrefix: '[ecs]',
  });
  const { port } = listener;

  const emulator: EcsEmulator = {
    endpoint: `${options.host ?? '127.0.0.1'}:${port}`,
    port,
    events,
    agents,
    service,
    faults,
    fleet,
    calls,
    serviceLinkedRole,
    reboot: (instanceId) => agents.reboot(instanceId, service.invocations.values()),
    async close() {
      // Not waiting for handlers: one held by a latency fault would hold the close for as long.
      await listener.close({ waitForHandlers: false });
      await agents.close();
      await killAllRunning();
      if (ownSandbox) await rm(sandboxRoot, { recursive: true, force: true });
    },
  };
  return emulator;
}
