/**
 * The local MNS (Simple Message Queue) endpoint: an HTTP server on loopback that the unmodified
 * `@alicloud/mns` client talks to (`new MNS(accountId, { accessKeyId, accessKeySecret, endpoint })`,
 * with `endpoint` = {@link MnsEmulator.endpoint}). Queues and messages live in a {@link QueueStore}
 * under `dataDir` and survive restarts.
 * @see docs/platform-facts.md §8
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ACTIONS, route } from './actions/index.ts';
import type { ActionRequest, ActionResult } from './actions/types.ts';
import { isMnsError, MnsError } from './errors.ts';
import type { QueueAttributes } from './queue-attributes.ts';
import { QueueStore } from './queue-store.ts';
import { verifyMnsRequest } from './signature.ts';
import { ALLOW_ALL, type Authorize } from '../ram/access.ts';
import { mnsRequest, accessRequest } from '../ram/requests.ts';
import { buildXml, parseRequestXml, XML_CONTENT_TYPE, type XmlDocument } from './xml.ts';
import { listenHttp, type HttpListener } from '../http-listener.ts';
import { restartable, type Serving as ServingOf } from '../restartable.ts';

/** Options of {@link startMnsEmulator}. */
export interface MnsEmulatorOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** AccessKey id → secret accepted by the signature check; read on every request, so keys added later (a role's STS keys) count. */
  accessKeys: Record<string, string>;
  /** Asked after the signature checks out (local/ram); every call is allowed without it. */
  authorize?: Authorize;
  /** The region in the queues' ARNs RAM is asked about; default cn-hangzhou. */
  regionId?: string;
  /**
   * The account the endpoint stands for. Informational: the real service takes the account from the
   * host name, while the SDK aimed at loopback sends `127.0.0.1:PORT`, so one emulator is one account.
   */
  accountId?: string;
  /** Folder for durable state (queues and messages); created if missing. */
  dataDir: string;
  /** One line per request; silent by default (tests) — the CLI passes console.log. */
  log?: (line: string) => void;
  /** Sync every journal write before answering (default true); the local cloud turns it off (local-cloud.ts). */
  fsync?: boolean;
  /** Queues created at start when missing; an existing queue is left as it is. */
  queues?: { name: string; attributes?: Partial<QueueAttributes> }[];
}

/** Faults a test sets on a running local MNS; none by default. */
export interface MnsFaults {
  /**
   * Asked for each signed call once its action is known: true closes the call's connection without
   * an answer, before anything is done — what a client sees (ECONNRESET, "socket hang up") when a
   * server closes an idle keep-alive connection just as the client sends on it. `reused`: the
   * connection served a call before (only such a one can have been idle).
   */
  reset?: ((call: { action: string; queueName: string | undefined; reused: boolean }) => boolean) | undefined;
}

/** A running local MNS. */
export interface MnsEmulator {
  /** Set by tests; kept across restarts. */
  readonly faults: MnsFaults;
  /** `http://127.0.0.1:PORT`: the MNS SDK wants the scheme (unlike the ECS one). */
  endpoint: string;
  port: number;
  accountId: string;
  /** The queues themselves, for tests and tools that want to look without going through HTTP; a restart opens a new one. */
  readonly store: QueueStore;
  /** False while a restart has the service stopped, and after close. */
  readonly up: boolean;
  /**
   * Stops the service as {@link close} does and starts it again on the same port and data folder, as
   * a restarted MNS would come back: clients keep their endpoint and find every acknowledged message,
   * received ones still invisible until their timeout. `whileDown` runs in between.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Stops listening, ends long polls, waits for pending disk writes. */
  close(): Promise<void>;
}

/** One listening server over one opened store: what a restart replaces. */
type Serving = ServingOf<QueueStore>;

/** The API version the SDK speaks and every response names. */
export const MNS_API_VERSION = '2015-06-06';
/** A batch of 16 × 64 KB bodies, entity-escaped, fits well within this. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Starts the local MNS on a loopback port. */
export async function startMnsEmulator(options: MnsEmulatorOptions): Promise<MnsEmulator> {
  const host = options.host ?? '127.0.0.1';
  const accountId = options.accountId ?? '1234567890123456';
  const log = options.log ?? (() => {});
  const accessKeys = options.accessKeys;
  const authorize = options.authorize ?? ALLOW_ALL;
  const arnScope = { regionId: options.regionId ?? 'cn-hangzhou', accountId };
  const endpointHost = host.includes(':') ? `[${host}]` : host;
  const faults: MnsFaults = {};

  async function serve(port: number): Promise<Serving> {
    const store = await QueueStore.open({ dataDir: options.dataDir, log, fsync: options.fsync ?? true });
    const shutdown = new AbortController();
    let fallbackBase = `http://${host}`;

    try {
      for (const q of options.queues ?? []) {
        try {
          await store.createQueue(q.name, q.attributes ?? {});
        } catch (e) {
          if (!(isMnsError(e) && e.code === 'QueueAlreadyExist')) throw e;
          log(`[mns] queue ${q.name} exists with other attributes; keeping them`);
        }
      }
    } catch (e) {
      await store.close();
      throw e;
    }

    async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer, requestId: string, reused: boolean): Promise<string> {
      const method = req.method ?? 'GET';
      const rawUrl = req.url ?? '/';
      const q = rawUrl.indexOf('?');
      const pathname = q === -1 ? rawUrl : rawUrl.slice(0, q);
      let label = `${method} ${pathname.slice(0, 128)}`;
      const baseUrl = typeof req.headers.host === 'string' && req.headers.host !== '' ? `http://${req.headers.host}` : fallbackBase;
      try {
        const { accessKeyId } = verifyMnsRequest({ method, url: rawUrl, headers: req.headers, body }, accessKeys);
        const query = parseQuery(q === -1 ? '' : rawUrl.slice(q + 1));
        let parsed: XmlDocument | undefined;
        const request: Omit<ActionRequest, 'queueName'> = {
          query,
          headers: req.headers,
          body,
          xml: () => (parsed ??= parseRequestXml(body)),
          signal: requestSignal(res),
          baseUrl,
        };
        const { name, queueName } = route(method, pathname, request);
        label = queueName ? `${name} ${queueName}` : name;
        if (faults.reset?.({ action: name, queueName, reused })) {
          req.socket.destroy();
          return `${label} connection closed without an answer`;
        }
        const decision = authorize(accessRequest(accessKeyId, mnsRequest(name, queueName, arnScope), req));
        if (!decision.allowed) throw new MnsError('AccessDenied', `You are not authorized to do this operation (${decision.reason}).`);
        const result = await ACTIONS[name]({ ...request, queueName }, { store });
        send(res, requestId, result);
        return `${label} ${result.status}`;
      } catch (e) {
        const error = isMnsError(e) ? e : new MnsError('InternalError', 'The local MNS failed; see its log.');
        if (!isMnsError(e)) console.error('[mns] internal error', e);
        sendError(res, requestId, error, baseUrl);
        return `${label} ${error.status} ${error.code}`;
      }
    }

    /** Aborted when the client disconnects before its answer, so a long poll does not take a message for nobody. */
    function requestSignal(res: ServerResponse): AbortSignal {
      const own = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) own.abort();
      });
      return AbortSignal.any([own.signal, shutdown.signal]);
    }

    let listener: HttpListener;
    try {
      listener = await listenHttp({
        host,
        port,
        maxHeaderSize: 64 * 1024,
        body: { maxBytes: MAX_BODY_BYTES },
        handle: ({ req, res, requestId, body, oversize, reused }) => {
          if (!oversize) return handle(req, res, body, requestId, reused);
          sendError(res, requestId, new MnsError('InvalidArgument', `The request body is larger than ${MAX_BODY_BYTES} bytes.`), fallbackBase);
          return Promise.resolve(`${req.method} ${req.url?.slice(0, 128)} 400 body too large`);
        },
        log,
        logPrefix: '[mns]',
      });
    } catch (e) {
      await store.close();
      throw e;
    }
    const bound = listener.port;
    fallbackBase = `http://${endpointHost}:${bound}`;
    log(`[mns] account ${accountId} listening on ${fallbackBase}, data in ${store.dataDir}`);
    return {
      port: bound,
      store,
      async stop() {
        shutdown.abort();
        // Handlers may still be waiting for their fsync; close() lets them finish before the logs close.
        await listener.close();
        await store.close();
      },
    };
  }

  const life = restartable('the local MNS', await serve(options.port ?? 0), serve);
  const { port } = life.current;
  return {
    endpoint: `http://${endpointHost}:${port}`,
    port,
    accountId,
    faults,
    get store() {
      return life.current.store;
    },
    get up() {
      return life.up;
    },
    restart: (whileDown) => life.restart(whileDown),
    close: () => life.close(),
  };
}

function commonHeaders(requestId: string): Record<string, string> {
  return { 'x-mns-request-id': requestId, 'x-mns-version': MNS_API_VERSION, server: 'fleetrun-mns' };
}

function send(res: ServerResponse, requestId: string, result: ActionResult): void {
  if (res.headersSent || res.destroyed) return;
  const text = result.xml ? buildXml(result.xml.root, result.xml.content) : '';
  res.writeHead(result.status, {
    ...commonHeaders(requestId),
    ...(text ? { 'content-type': XML_CONTENT_TYPE } : {}),
    'content-length': Buffer.byteLength(text),
    ...result.headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, requestId: string, error: MnsError, hostId: string): void {
  // The SDK throws only for an XML body with a text/xml content type; anything else would resolve
  // quietly as {code: 4xx} (docs/platform-facts.md §8.4), so errors are always this document.
  send(res, requestId, {
    status: error.status,
    xml: { root: 'Error', content: { Code: error.code, Message: error.message, RequestId: requestId, HostId: hostId } },
  });
}

/**
 * Decodes the query for routing and parameters; keys are lower-cased because the SDK itself writes
 * both `ReceiptHandle` and `receiptHandle`. A '+' stays a '+': receipt handles are sent unencoded.
 * @throws MnsError `InvalidQueryString` for bad percent-encoding or a repeated parameter
 */
function parseQuery(raw: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(rawKey).toLowerCase();
      value = decodeURIComponent(rawValue);
    } catch {
      throw new MnsError('InvalidQueryString', `The query item "${part.slice(0, 64)}" is not valid percent-encoding.`);
    }
    if (Object.hasOwn(out, key)) throw new MnsError('InvalidQueryString', `The query item "${key.slice(0, 64)}" appears more than once.`);
    out[key] = value;
  }
  return out;
}
