/**
 * The local OSS endpoint: an HTTP server on loopback that the unmodified `ali-oss` client talks to
 * (`new OSS({ region, bucket, accessKeyId, accessKeySecret, endpoint: emulator.endpoint })`).
 * Objects live on disk under `dataDir` and survive a restart (layout: store.ts).
 * @see docs/platform-facts.md §9 and §10
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ACTIONS, route, routeService } from './actions/index.ts';
import type { ActionContext, OssResponse } from './actions/types.ts';
import { addressCandidates, isValidBucketName, parseHost } from './addressing.ts';
import { BUCKET_ACLS, ossRegion, type BucketAcl, type BucketInfo } from './bucket-info.ts';
import { errorXml, OssError } from './errors.ts';
import { checkLifecycle, type LifecycleRule, type LifecycleRuleInput } from './lifecycle.ts';
import { startLifecycleSweep } from './lifecycle-sweep.ts';
import { verifyRequest } from './signature.ts';
import { ALLOW_ALL, type Authorize } from '../ram/access.ts';
import { ossRequest, accessRequest } from '../ram/requests.ts';
import { DiskObjectStore } from './store.ts';
import { httpDate, parseQuery, utf8Length } from './wire.ts';
import { listenHttp, type HttpListener } from '../http-listener.ts';
import { restartable, type Serving as ServingOf } from '../restartable.ts';

/** Options of {@link startOssEmulator}. */
export interface OssEmulatorOptions {
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** AccessKey id → secret accepted by the signature check; read on every request, so keys added later (a role's STS keys) count. */
  accessKeys: Record<string, string>;
  /** The local RAM, asked after the signature checks out (presigned URLs too); every call is allowed without it. */
  authorize?: Authorize;
  /** Where buckets and objects are kept; reused across restarts. */
  dataDir: string;
  /** fsync each object before it is committed, so it survives a power cut too (default true; store.ts). */
  fsync?: boolean;
  /** Region served, in ali-oss form; default `oss-cn-hangzhou`. Requests for another region's endpoint are refused. */
  region?: string;
  /**
   * Buckets created at start (existing ones are kept as they are): a name makes a bucket in this
   * region owned by {@link accountId}; an object may place it in another region (`cn-beijing` or
   * `oss-cn-beijing`) or give it to another account, e.g. to see what a client does with a bucket
   * it cannot use.
   */
  buckets?: (string | PresetBucket)[];
  /** Largest object PutObject accepts; default {@link DEFAULT_MAX_OBJECT_BYTES} (5 GiB, the OSS PutObject limit). */
  maxObjectBytes?: number;
  /** The account every AccessKey belongs to unless {@link keyAccounts} says otherwise; default `1234567890123456` (the ECS emulator's default account). */
  accountId?: string;
  /** AccessKey id → the account (UID) it belongs to, for keys of other accounts than {@link accountId}. */
  keyAccounts?: Record<string, string>;
  /** One line per request; defaults to silence (tests) — the CLI passes console.log. */
  log?: (line: string) => void;
  /**
   * Fault injection: milliseconds to hold a request before serving it, e.g. to kill a client in the
   * middle of a write sequence. Changeable later through the returned handle's `faults`.
   */
  delay?: OssDelay;
  /** Fault injection: answer a request with this error instead of serving it (undefined = serve it). */
  fail?: OssFailure;
  /**
   * Test knob: how long a lifecycle day lasts here, in ms; default {@link DEFAULT_LIFECYCLE_DAY_MS}
   * (24 h, as OSS counts Days). A rule's `Days: 1` with 200 expires objects 200 ms after their last
   * modification (at the next sweep).
   */
  lifecycleDayMs?: number;
  /**
   * How often the lifecycle sweep deletes expired objects, in ms; default
   * {@link DEFAULT_LIFECYCLE_SWEEP_MS}. Real OSS applies rules asynchronously, not at the instant an
   * object expires; this sets how late the emulator may be.
   */
  lifecycleSweepMs?: number;
}

/** A bucket made at start, where and for whom the options say. */
export interface PresetBucket {
  name: string;
  /** Default: the emulator's region. */
  region?: string;
  /** Default: the emulator's {@link OssEmulatorOptions.accountId}. */
  ownerAccountId?: string;
  /** Canned ACL; default `private`. */
  acl?: BucketAcl;
  /**
   * Lifecycle rules, in ali-oss's `putBucketLifecycle` rule shape and checked as PutBucketLifecycle
   * checks them (a bad rule fails the start).
   */
  lifecycle?: LifecycleRuleInput[];
}

/** Chooses a delay in ms for one request (0 = none), or a promise the request waits for. */
export type OssDelay = (request: { action: string; bucket: string; key: string }) => number | Promise<unknown>;
/** Chooses an error for one request, or undefined to serve it. */
export type OssFailure = (request: { action: string; bucket: string; key: string }) => 'InternalError' | 'AccessDenied' | undefined;
/**
 * True closes the request's connection without an answer, before anything is done: what a client
 * sees (ECONNRESET, "socket hang up") when a server closes an idle keep-alive connection just as
 * the client sends on it. `reused`: the connection served a request before (only such a one can
 * have been idle).
 */
export type OssReset = (request: { action: string; bucket: string; key: string; reused: boolean }) => boolean;
/** Told of each request once it is answered: its operation (empty before routing), object and HTTP status. */
export type OssAnswered = (request: { action: string; bucket: string; key: string; status: number }) => void;

/** A running local OSS service. */
export interface OssEmulator {
  /** `http://127.0.0.1:PORT`: an IP literal, which ali-oss needs (docs/platform-facts.md §9.2). */
  endpoint: string;
  port: number;
  /** `oss-cn-hangzhou` form, what ali-oss takes as `region`. */
  region: string;
  /** The objects behind the API, for setup and assertions (createBucket, list, read, head, put, delete); a restart opens a new one. */
  readonly store: DiskObjectStore;
  /** Fault injection that can be changed while running; kept across a restart. */
  faults: { delay?: OssDelay | undefined; fail?: OssFailure | undefined; reset?: OssReset | undefined };
  /** Watches the answers, e.g. to count the writes of one key that succeeded; kept across a restart. */
  spy: { answered?: OssAnswered | undefined };
  /** False while a restart has the service stopped, and after close. */
  readonly up: boolean;
  /**
   * Stops the service as {@link close} does and starts it again on the same port and data folder, as
   * a restarted OSS would come back: clients keep their endpoint and find every committed object.
   * `whileDown` runs in between (requests meanwhile are refused, connections in flight were cut).
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Stops listening, cuts open connections and waits for writes in flight; the data stays on disk. */
  close(): Promise<void>;
}

/** 5 GiB: the largest object a single OSS PutObject may create. */
export const DEFAULT_MAX_OBJECT_BYTES = 5 * 1024 ** 3;
/** Region served when none is given, in ali-oss form. */
export const DEFAULT_OSS_REGION = 'oss-cn-hangzhou';
/** A lifecycle day as OSS counts it: 24 hours. */
export const DEFAULT_LIFECYCLE_DAY_MS = 86_400_000;
/** How often the lifecycle sweep runs unless told otherwise: once a minute. */
export const DEFAULT_LIFECYCLE_SWEEP_MS = 60_000;

/** One listening server over one opened store: what a restart replaces. */
type Serving = ServingOf<DiskObjectStore>;

/** Starts the local OSS service and resolves once it listens. */
export async function startOssEmulator(options: OssEmulatorOptions): Promise<OssEmulator> {
  const region = options.region ?? DEFAULT_OSS_REGION;
  if (!/^oss-[a-z0-9-]+$/.test(region)) throw new Error(`region must look like "oss-cn-hangzhou", got "${region}"`);
  const log = options.log ?? (() => {});
  const faults: OssEmulator['faults'] = { delay: options.delay, fail: options.fail };
  const spy: OssEmulator['spy'] = {};
  const accountId = options.accountId ?? '1234567890123456';
  const accountOf = (accessKeyId: string): string => (options.keyAccounts && Object.hasOwn(options.keyAccounts, accessKeyId) ? options.keyAccounts[accessKeyId]! : accountId);
  const secretFor = (id: string): string | undefined => (Object.hasOwn(options.accessKeys, id) ? options.accessKeys[id] : undefined);
  const authorize = options.authorize ?? ALLOW_ALL;
  const lifecycleDayMs = positive(options.lifecycleDayMs ?? DEFAULT_LIFECYCLE_DAY_MS, 'lifecycleDayMs');
  const lifecycleSweepMs = positive(options.lifecycleSweepMs ?? DEFAULT_LIFECYCLE_SWEEP_MS, 'lifecycleSweepMs');
  const presets = (options.buckets ?? []).map(presetSettings);

  async function serve(port: number): Promise<Serving> {
    const store = await DiskObjectStore.open(options.dataDir, { log, fsync: options.fsync ?? true, bucketDefaults: { region, ownerAccountId: accountId } });
    // A preset makes a bucket that does not exist yet; one that does keeps its settings and rules as
    // they were left (changed through the API, say), so a restart changes nothing.
    for (const { name, region: presetRegion, ownerAccountId, ...settings } of presets) {
      await store.createBucket(name, { region: ossRegion(presetRegion ?? region), ownerAccountId: ownerAccountId ?? accountId, ...settings });
    }
    const maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;

    async function handle(req: IncomingMessage, res: ServerResponse, requestId: string, reused: boolean): Promise<string> {
      const method = req.method ?? 'GET';
      const target = req.url ?? '/';
      const q = target.indexOf('?');
      const rawPath = q < 0 ? target : target.slice(0, q);
      let hostId = `${region}.aliyuncs.com`;
      let what = `${method} ${rawPath}`;
      const seen = { action: '', bucket: '', key: '' };
      try {
        const query = parseQuery(q < 0 ? '' : target.slice(q + 1));
        const host = parseHost(req.headers.host);
        const candidates = addressCandidates(host, rawPath);
        if (candidates[0]!.bucket !== '') hostId = `${candidates[0]!.bucket}.${region}.aliyuncs.com`;
        // Before the signature: a V4 credential for the other region would otherwise hide the real cause.
        checkEndpointRegion(host.endpointRegion, candidates[0]!.bucket);
        const verified = verifyRequest({ method, headers: req.headers, query }, candidates, { secretFor, region, now: Date.now() });
        if (!verified.ok) throw verified.error;
        const { bucket, key } = candidates[verified.resource]!;
        Object.assign(seen, { bucket, key });
        what = `${method} ${bucket}/${key}`;
        const caller = { accountId: accountOf(verified.accessKeyId) };
        const access = authorize(accessRequest(verified.accessKeyId, ossRequest(method, bucket, key, query, accountId), req));
        if (!access.allowed) throw new OssError('AccessDenied', `You are not authorized to do this operation (${access.reason}).`);
        let owner = { id: caller.accountId, displayName: caller.accountId };
        let name;
        if (bucket === '') {
          name = routeService(method, query);
        } else {
          if (!isValidBucketName(bucket)) throw new OssError('InvalidBucketName', undefined, { details: { BucketName: bucket } });
          hostId = `${bucket}.${region}.aliyuncs.com`;
          if (key !== '') checkKey(key);
          name = route(method, key, query);
          const info = store.bucketInfo(bucket);
          if (name !== 'PutBucket') {
            if (!info) throw new OssError('NoSuchBucket', undefined, { details: { BucketName: bucket } });
            checkBucketAccess(info, caller.accountId, name);
            owner = { id: info.ownerAccountId, displayName: info.ownerAccountId };
          }
        }
        seen.action = name;
        what = `${name} ${bucket}/${key}`;
        const hold = faults.delay?.({ action: name, bucket, key }) ?? 0;
        if (typeof hold !== 'number') await hold;
        else if (hold > 0) await new Promise((r) => setTimeout(r, hold));
        const failure = faults.fail?.({ action: name, bucket, key });
        if (failure) throw new OssError(failure, 'Injected fault.');
        if (faults.reset?.({ action: name, bucket, key, reused })) {
          req.socket.destroy();
          return `${what} connection closed without an answer`;
        }
        const ctx: ActionContext = { store, maxObjectBytes, owner, region, caller };
        const response = await ACTIONS[name]({ method, bucket, key, query, headers: req.headers, body: req }, ctx);
        const sent = await send(res, method, requestId, response);
        spy.answered?.({ ...seen, status: response.status });
        return `${what} ${response.status}${sent ? '' : ' (client went away)'}`;
      } catch (e) {
        const error = e instanceof OssError ? e : internalError(e);
        sendError(res, method, requestId, hostId, error);
        spy.answered?.({ ...seen, status: error.status });
        return `${what} ${error.status} ${error.code}`;
      }
    }

    let listener: HttpListener;
    try {
      listener = await listenHttp({
        host: options.host,
        port,
        maxHeaderSize: 64 * 1024,
        // ali-oss keeps idle sockets for 15 s (agentkeepalive). With Node's default 5 s the server could
        // close a socket just as the client reuses it, which surfaces as a random "socket hang up".
        keepAliveTimeoutMs: 30_000,
        body: 'streamed',
        handle: ({ req, res, requestId, reused }) => handle(req, res, requestId, reused),
        log,
        logPrefix: '[oss]',
      });
    } catch (e) {
      await store.close();
      throw e;
    }
    const sweep = startLifecycleSweep(store, { dayMs: lifecycleDayMs, everyMs: lifecycleSweepMs, log });
    return {
      port: listener.port,
      store,
      async stop() {
        // Cuts the connections, then waits for writes in flight before the store closes.
        await listener.close();
        await sweep.stop();
        await store.close();
      },
    };
  }

  function checkBucketAccess(info: BucketInfo, callerAccountId: string, action: string): void {
    // Without bucket policies or ACL grants (not emulated), only the owner's account may use a bucket.
    if (info.ownerAccountId !== callerAccountId) {
      throw new OssError('AccessDenied', NOT_YOUR_BUCKET, { details: { BucketName: info.name }, ec: '0003-00000001' });
    }
    // GetBucketInfo may be sent to any OSS endpoint (OSS GetBucketInfo page); the rest must go to the bucket's region.
    if (info.region !== region && action !== 'GetBucketInfo') throw wrongEndpoint(info.name, info.region);
  }

  function checkEndpointRegion(endpointRegion: string | undefined, bucket: string): void {
    // The Host names a region (ali-oss builds it from its `region` option). Real OSS refuses a bucket
    // addressed through another region's endpoint; so does the emulator, which catches a client
    // configured for a different region than the local cloud.
    if (endpointRegion === undefined || endpointRegion === region || endpointRegion === `${region}-internal`) return;
    throw wrongEndpoint(bucket, region);
  }

  const life = restartable('the local OSS', await serve(options.port ?? 0), serve);
  const { port } = life.current;
  return {
    endpoint: `http://${endpointHost(options.host ?? '127.0.0.1')}:${port}`,
    port,
    region,
    get store() {
      return life.current.store;
    },
    faults,
    spy,
    get up() {
      return life.up;
    },
    restart: (whileDown) => life.restart(whileDown),
    close: () => life.close(),
  };
}

/** A preset's name and settings, its lifecycle rules checked as PutBucketLifecycle checks them. */
function presetSettings(preset: string | PresetBucket): Omit<PresetBucket, 'lifecycle'> & { lifecycle?: LifecycleRule[] } {
  if (typeof preset === 'string') return { name: preset };
  const { lifecycle, ...rest } = preset;
  if (rest.acl !== undefined && !(BUCKET_ACLS as readonly string[]).includes(rest.acl)) {
    throw new Error(`preset bucket "${preset.name}": acl must be one of ${BUCKET_ACLS.join(', ')}, got "${rest.acl}"`);
  }
  if (lifecycle === undefined) return rest;
  try {
    return { ...rest, lifecycle: checkLifecycle(lifecycle) };
  } catch (e) {
    throw new Error(`preset bucket "${preset.name}": ${(e as Error).message}`);
  }
}

function positive(ms: number, name: string): number {
  if (!(ms > 0) || !Number.isFinite(ms)) throw new Error(`${name} must be a positive number of milliseconds, got ${ms}`);
  return ms;
}

/** OSS's AccessDenied message for a bucket of another account (OSS troubleshooting page 0003-00000001). */
export const NOT_YOUR_BUCKET = 'The bucket you access does not belong to you.';

function wrongEndpoint(bucket: string, bucketRegion: string): OssError {
  return new OssError(
    'AccessDenied',
    'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
    { details: { Bucket: bucket, Endpoint: `${bucketRegion}.aliyuncs.com` } },
  );
}

/** Key rules of OSS: 1–1023 bytes of UTF-8, not starting with `/` or `\`. */
function checkKey(key: string): void {
  if (utf8Length(key) > 1023) throw new OssError('InvalidObjectName', 'The Length of Object name must be less than 1024.', { details: { Key: key.slice(0, 64) } });
  if (key.startsWith('/') || key.startsWith('\\')) throw new OssError('InvalidObjectName', 'The object name must not start with "/" or "\\".', { details: { Key: key } });
}

/** Writes a successful answer; resolves false if the client went away while a body was streaming. */
async function send(res: ServerResponse, method: string, requestId: string, response: OssResponse): Promise<boolean> {
  const headers: Record<string, string | number> = { 'x-oss-request-id': requestId, Date: httpDate(Date.now()), Server: 'AliyunOSS', ...response.headers };
  const { body } = response;
  if (body instanceof Readable) {
    try {
      res.writeHead(response.status, headers);
    } catch (e) {
      body.destroy();
      throw e;
    }
    if (method === 'HEAD') {
      body.destroy();
      res.end();
      return true;
    }
    try {
      await pipeline(body, res);
      return true;
    } catch {
      return false;
    }
  }
  const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  if (bytes !== undefined && headers['Content-Length'] === undefined) headers['Content-Length'] = bytes.length;
  res.writeHead(response.status, headers);
  res.end(method === 'HEAD' ? undefined : bytes);
  return true;
}

function sendError(res: ServerResponse, method: string, requestId: string, hostId: string, error: OssError): void {
  if (res.headersSent) {
    // Too late for an error document; cutting the connection is the only honest signal left.
    res.destroy();
    return;
  }
  const xml = errorXml(error, requestId, hostId);
  const headers: Record<string, string | number> = {
    'x-oss-request-id': requestId,
    'x-oss-ec': error.ec,
    Date: httpDate(Date.now()),
    Server: 'AliyunOSS',
    ...error.headers,
  };
  if (method === 'HEAD') {
    // A HEAD answer has no body, so OSS carries the error document base64-encoded in a header.
    headers['x-oss-err'] = Buffer.from(xml, 'utf8').toString('base64');
    headers['Content-Length'] = 0;
    res.writeHead(error.status, headers);
    res.end();
    return;
  }
  headers['Content-Type'] = 'application/xml';
  headers['Content-Length'] = Buffer.byteLength(xml);
  res.writeHead(error.status, headers);
  res.end(xml);
}

function internalError(e: unknown): OssError {
  // A client that goes away mid-upload (a killed function) is not the service failing.
  const aborted = (e as { code?: string; message?: string }).code === 'ECONNRESET' || (e as Error).message === 'aborted';
  if (aborted) return new OssError('RequestTimeout', 'The client closed the connection before the body arrived.');
  console.error('[oss] internal error', e);
  return new OssError('InternalError', 'The local OSS failed; see its log.');
}

/** The host part of an endpoint URL clients can connect to (an IP literal, never a wildcard). */
function endpointHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
