/**
 * The InvokeFunction APIs on one loopback port:
 *
 * - FC 3.0 (`@alicloud/fc20230330`, endpoint `127.0.0.1:PORT` with protocol http):
 *   `POST /2023-03-30/functions/<function>/invocations[?qualifier=…]`, ACS3-HMAC-SHA256 signed
 *   (fc3-signature.ts), the invocation type in `x-fc-invocation-type`; errors as FC 3.0 answers
 *   them, JSON `Code` / `Message` / `RequestId`.
 * - FC 2.0 (`@alicloud/fc2`, endpoint `http://127.0.0.1:PORT`):
 *   `POST /2016-08-15/services/<service>[.<qualifier>]/functions/<function>/invocations`, FC
 *   signed (fc-signature.ts); errors as JSON `ErrorCode` / `ErrorMessage`. FC 3.0 functions belong
 *   to no service, so only the services the deployment declares (`fc2Services`) answer; any other
 *   is FC's own `ServiceNotFound` (404, "service '%s' does not exist").
 *
 * Sync invocations answer 200 with the result; async ones 202 at once, then run in the background
 * with FC's retries on function errors. After the signature checks out, each call asks `authorize`
 * (RAM) for `fc:InvokeFunction` on the function; a denial is FC's `AccessDenied` (403).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { listenHttp } from '../http-listener.ts';
import type { Authorize } from '../ram/access.ts';
import type { AsyncInvocationLog, AsyncInvocationRecord } from './async-invocations.ts';
import { contentMd5Matches, verifyFcRequest, type FcApiError } from './fc-signature.ts';
import { Fc3NonceCache, verifyFc3Request } from './fc3-signature.ts';
import { InvocationError } from './function-instance.ts';
import { fc2RequestId, fc3RequestId, resultToBody } from './invocation-result.ts';

export interface InvokeApiOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** AccessKey id → secret accepted by the signature check. */
  accessKeys: Record<string, string>;
  /** Whether the host serves this function. */
  hasFunction: (functionName: string) => boolean;
  /**
   * FC 2.0 API deployments: service name → the functions it holds. An FC 3.0 deployment declares
   * none (it has no services), so by default every FC 2.0 InvokeFunction is `ServiceNotFound`.
   */
  fc2Services?: Record<string, string[]>;
  /** The ARN of a function, for `authorize` (`acs:fc:<region>:<accountId>:functions/<name>`). */
  functionArn: (functionName: string) => string;
  /** RAM: asked after the signature checks out; absent, every signed call is allowed. */
  authorize?: Authorize;
  invoke: (functionName: string, event: Buffer, requestId: string) => Promise<unknown>;
  /** Retries of a failed async invocation (FC: asyncInvokeConfig.maxAsyncRetryAttempts, default 3). */
  maxAsyncRetries: (functionName: string) => number;
  /** Wait before the first retry, doubled for each further one. FC does not document its interval; default 1000 ms. */
  asyncRetryDelayMs?: number;
  asyncInvocations: AsyncInvocationLog;
  /** Read on every call, so a test may set them while the API runs. */
  faults?: InvokeApiFaults;
  log: (line: string) => void;
}

/** Faults a test sets on the running InvokeFunction API; none by default. */
export interface InvokeApiFaults {
  /**
   * Asked for each signed InvokeFunction once its function is known: true closes the call's
   * connection without an answer, before anything is done — what a client sees (ECONNRESET,
   * "socket hang up") when a server closes an idle keep-alive connection just as the client sends
   * on it. `reused`: the connection served a call before.
   */
  reset?: ((call: { api: 'fc2' | 'fc3'; functionName: string; reused: boolean }) => boolean) | undefined;
}

export interface InvokeApi {
  /** `http://127.0.0.1:PORT`, the form `@alicloud/fc2`'s `endpoint` wants. */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** FC's payload limits: 32 MB synchronous, 128 KB asynchronous (§5.1). */
const SYNC_LIMIT = 32 * 1024 * 1024;
const ASYNC_LIMIT = 128 * 1024;

const INVOKE_PATH = /^\/2016-08-15\/services\/([^/]+)\/functions\/([^/]+)\/invocations$/;
const FC3_INVOKE_PATH = /^\/2023-03-30\/functions\/([^/]+)\/invocations$/;

const invocationTypeSchema = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const t = (v ?? 'Sync').toLowerCase();
    if (t === 'sync' || t === 'async') return t;
    ctx.addIssue({ code: 'custom', message: `x-fc-invocation-type must be Sync or Async, not '${v}'` });
    return z.NEVER;
  });

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export async function startInvokeApi(o: InvokeApiOptions): Promise<InvokeApi> {
  const retryDelayMs = o.asyncRetryDelayMs ?? 1000;
  /** Retry waits, by timer, with what ends the wait early (close). */
  const pendingRetries = new Map<NodeJS.Timeout, () => void>();
  let closed = false;
  const nonces = new Fc3NonceCache();

  type Api = 'fc2' | 'fc3';

  function sendError(res: ServerResponse, api: Api, requestId: string, e: FcApiError): string {
    // `@alicloud/fc2` reads ErrorCode / ErrorMessage, and only from an application/json body;
    // `@alicloud/openapi-core` (FC 3.0) reads Code / Message / RequestId (FC 3.0's Error struct).
    const text = JSON.stringify(api === 'fc2' ? { ErrorCode: e.code, ErrorMessage: e.message } : { Code: e.code, Message: e.message, RequestId: requestId });
    res.writeHead(e.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-fc-request-id': requestId });
    res.end(text);
    return `${e.status} ${e.code}`;
  }

  /** Runs one accepted async invocation to its end, retrying function errors as FC does. */
  async function runAsync(record: AsyncInvocationRecord, event: Buffer): Promise<void> {
    const r = { ...record };
    while (!closed) {
      r.status = 'started';
      r.startedAt ??= new Date().toISOString();
      r.attempts++;
      o.asyncInvocations.put(r);
      try {
        await o.invoke(r.functionName, event, r.requestId);
        r.status = 'succeeded';
        r.finishedAt = new Date().toISOString();
        delete r.error;
        o.asyncInvocations.put(r);
        o.log(`[fc:invoke] async ${r.functionName} ${r.requestId} succeeded (attempt ${r.attempts})`);
        return;
      } catch (e) {
        const retryable = e instanceof InvocationError;
        r.error = { kind: retryable ? e.kind : 'InternalError', message: (e as Error).message };
        if (!retryable || r.attempts > r.maxRetries || closed) break;
        o.asyncInvocations.put(r);
        const delay = retryDelayMs * 2 ** (r.attempts - 1);
        o.log(`[fc:invoke] async ${r.functionName} ${r.requestId} attempt ${r.attempts} failed (${r.error.kind}): retry in ${delay} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            pendingRetries.delete(t);
            resolve();
          }, delay);
          pendingRetries.set(t, resolve);
        });
      }
    }
    r.status = 'failed';
    r.finishedAt = new Date().toISOString();
    if (closed && !r.error) r.error = { kind: 'HostClosed', message: 'the local FC host closed before the invocation ran' };
    o.asyncInvocations.put(r);
    o.log(`[fc:invoke] async ${r.functionName} ${r.requestId} failed after ${r.attempts} attempt(s): ${r.error?.message}`);
  }

  /** Asks RAM whether the caller may invoke the function; undefined when allowed. */
  function denied(accessKeyId: string, functionName: string): FcApiError | undefined {
    if (!o.authorize) return undefined;
    const decision = o.authorize({ accessKeyId, action: 'fc:InvokeFunction', resources: [o.functionArn(functionName)] });
    return decision.allowed ? undefined : { status: 403, code: 'AccessDenied', message: `the caller is not authorized to perform fc:InvokeFunction on ${o.functionArn(functionName)}: ${decision.reason}` };
  }

  interface Invocation {
    api: Api;
    res: ServerResponse;
    requestId: string;
    functionName: string;
    service?: string;
    qualifier?: string;
    invocationType: string | string[] | undefined;
    body: Buffer;
    oversize: boolean;
    /** How the call is logged, e.g. `fleetrun.LATEST/fn` or `fn`. */
    label: string;
  }

  /** What both APIs do once the call is signed, routed and allowed: size checks, then Sync or Async. */
  async function run(c: Invocation): Promise<string> {
    const { api, res, requestId, functionName, body } = c;
    const type = invocationTypeSchema.safeParse(c.invocationType);
    if (!type.success) return sendError(res, api, requestId, { status: 400, code: 'InvalidArgument', message: type.error.issues[0]!.message });
    const limit = type.data === 'async' ? ASYNC_LIMIT : SYNC_LIMIT;
    if (c.oversize || body.length > limit) return sendError(res, api, requestId, { status: 400, code: 'EntityTooLarge', message: `payload size exceeds maximum allowed size (${limit} bytes)` });
    const what = `${type.data === 'async' ? 'Async' : 'Sync'} ${c.label}`;

    if (type.data === 'async') {
      const record: AsyncInvocationRecord = {
        requestId,
        functionName,
        service: c.service ?? '',
        ...(c.qualifier ? { qualifier: c.qualifier } : {}),
        status: 'accepted',
        attempts: 0,
        maxRetries: o.maxAsyncRetries(functionName),
        payloadBytes: body.length,
        acceptedAt: new Date().toISOString(),
      };
      o.asyncInvocations.put(record);
      res.writeHead(202, { 'content-length': 0, 'x-fc-request-id': requestId });
      res.end();
      // After the 202 is on its way, as FC queues the event and answers first.
      setImmediate(() => void runAsync(record, body));
      return `${what} 202`;
    }

    try {
      const { body: out, contentType } = resultToBody(await o.invoke(functionName, body, requestId));
      res.writeHead(200, { ...(contentType ? { 'content-type': contentType } : {}), 'content-length': out.length, 'x-fc-request-id': requestId });
      res.end(out);
      return `${what} 200`;
    } catch (e) {
      // A function's failure is still a 200 for the API; only x-fc-error-type tells (the SDK does not throw).
      const err = e instanceof InvocationError ? e : new InvocationError('FunctionError', (e as Error).message);
      const text = JSON.stringify({ errorMessage: err.message, errorType: err.errorName ?? err.kind });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-fc-request-id': requestId, 'x-fc-error-type': 'UnhandledInvocationError' });
      res.end(text);
      return `${what} 200 UnhandledInvocationError (${err.kind})`;
    }
  }

  async function handleFc2(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer, oversize: boolean, requestId: string, reused: boolean): Promise<string> {
    const method = req.method ?? 'GET';
    const verified = verifyFcRequest({ method, path: url.pathname, headers: req.headers, accessKeys: o.accessKeys });
    if (!verified.ok) return sendError(res, 'fc2', requestId, verified.error);
    const route = method === 'POST' ? INVOKE_PATH.exec(url.pathname) : null;
    if (!route) return sendError(res, 'fc2', requestId, { status: 400, code: 'PathNotSupported', message: `'${method}' against '${url.pathname}' is not supported` });
    const serviceAndQualifier = decode(route[1]!);
    const functionName = decode(route[2]!);
    if (o.faults?.reset?.({ api: 'fc2', functionName, reused })) return closeUnanswered(req);
    const dot = serviceAndQualifier.indexOf('.');
    const service = dot === -1 ? serviceAndQualifier : serviceAndQualifier.slice(0, dot);
    const qualifier = dot === -1 ? undefined : serviceAndQualifier.slice(dot + 1);
    const md5 = req.headers['content-md5'];
    if (typeof md5 === 'string' && md5 !== '' && !contentMd5Matches(md5, body)) return sendError(res, 'fc2', requestId, { status: 400, code: 'InvalidArgument', message: 'the Content-MD5 header does not match the request body' });
    const held = o.fc2Services && Object.hasOwn(o.fc2Services, service) ? o.fc2Services[service]! : undefined;
    if (!held) return sendError(res, 'fc2', requestId, { status: 404, code: 'ServiceNotFound', message: `service '${service}' does not exist` });
    const refusal = denied(verified.accessKeyId, functionName);
    if (refusal) return sendError(res, 'fc2', requestId, refusal);
    if (!held.includes(functionName) || !o.hasFunction(functionName)) return sendError(res, 'fc2', requestId, { status: 404, code: 'FunctionNotFound', message: `function '${functionName}' does not exist in service '${service}'` });
    return run({ api: 'fc2', res, requestId, functionName, service, ...(qualifier ? { qualifier } : {}), invocationType: req.headers['x-fc-invocation-type'], body, oversize, label: `${service}${qualifier ? `.${qualifier}` : ''}/${functionName}` });
  }

  async function handleFc3(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer, oversize: boolean, requestId: string, reused: boolean): Promise<string> {
    const method = req.method ?? 'GET';
    // The signature covers the raw path as sent (the client percent-encodes the function name).
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const verified = verifyFc3Request({ method, path: rawPath, query: url.searchParams, headers: req.headers, body, accessKeys: o.accessKeys, nonces });
    if (!verified.ok) return sendError(res, 'fc3', requestId, verified.error);
    const route = method === 'POST' ? FC3_INVOKE_PATH.exec(url.pathname) : null;
    if (!route) return sendError(res, 'fc3', requestId, { status: 400, code: 'PathNotSupported', message: `'${method}' against '${url.pathname}' is not supported` });
    const functionName = decode(route[1]!);
    if (o.faults?.reset?.({ api: 'fc3', functionName, reused })) return closeUnanswered(req);
    const qualifier = url.searchParams.get('qualifier') ?? undefined;
    const refusal = denied(verified.accessKeyId, functionName);
    if (refusal) return sendError(res, 'fc3', requestId, refusal);
    if (!o.hasFunction(functionName)) return sendError(res, 'fc3', requestId, { status: 404, code: 'FunctionNotFound', message: `function '${functionName}' does not exist.` });
    return run({ api: 'fc3', res, requestId, functionName, ...(qualifier ? { qualifier } : {}), invocationType: req.headers['x-fc-invocation-type'], body, oversize, label: `${functionName}${qualifier ? `:${qualifier}` : ''}` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer, oversize: boolean, requestId: string, reused: boolean): Promise<string> {
    const url = new URL(req.url ?? '/', 'http://local');
    return url.pathname.startsWith('/2023-03-30/') ? handleFc3(req, res, url, body, oversize, requestId, reused) : handleFc2(req, res, url, body, oversize, requestId, reused);
  }

  function closeUnanswered(req: IncomingMessage): string {
    req.socket.destroy();
    return 'connection closed without an answer';
  }

  const apiOf = (req: IncomingMessage): Api => ((req.url ?? '').startsWith('/2023-03-30/') ? 'fc3' : 'fc2');
  const listener = await listenHttp({
    host: o.host,
    port: o.port,
    body: { maxBytes: SYNC_LIMIT },
    requestId: (req) => (apiOf(req) === 'fc3' ? fc3RequestId() : fc2RequestId()),
    handle: async ({ req, res, requestId, body, oversize, reused }) => {
      const summary = await handle(req, res, body, oversize, requestId, reused).catch((e: unknown) => {
        o.log(`[fc:invoke] internal error: ${(e as Error).stack ?? String(e)}`);
        return res.headersSent ? '500 (after headers)' : sendError(res, apiOf(req), requestId, { status: 500, code: 'InternalServerError', message: 'an internal error has occurred. Please retry.' });
      });
      return `${req.method} ${req.url} ${summary}`;
    },
    log: o.log,
    logPrefix: '[fc:invoke]',
    logRequestId: true,
  });
  const { port } = listener;
  return {
    endpoint: `http://${o.host ?? '127.0.0.1'}:${port}`,
    port,
    async close() {
      closed = true;
      // Waiting retries end now and record the invocation failed, so nothing waits on a closed host.
      for (const [t, wake] of pendingRetries) {
        clearTimeout(t);
        wake();
      }
      pendingRetries.clear();
      // A sync invocation in flight ends when the host closes its instances, after this.
      await listener.close({ waitForHandlers: false });
    },
  };
}
