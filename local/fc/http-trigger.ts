/**
 * One function's HTTP trigger on its own loopback port. FC gives every HTTP trigger its own
 * domain, so the request path reaches the function as it is, with no prefix to strip. Each
 * request becomes the FC 3.0 HTTP trigger event, is invoked through the host (its own process,
 * its timeout), and the struct the function returns becomes the HTTP response.
 * @see docs/platform-facts.md §5.3
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TextDecoder } from 'node:util';
import { z } from 'zod';
import { listenHttp } from '../http-listener.ts';
import { InvocationError } from './function-instance.ts';
import { fc3RequestId, resultBytes, resultToBody } from './invocation-result.ts';
import type { TriggerSpec } from './s-yaml.ts';

export interface HttpTriggerOptions {
  functionName: string;
  trigger: TriggerSpec;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  accountId: string;
  /** Invokes the function with this event and request id (the host's, so timeouts and crashes behave as FC's). */
  invoke: (event: Buffer, requestId: string) => Promise<unknown>;
  /** Largest request body; FC's synchronous payload limit, 32 MB, by default. */
  maxBodyBytes?: number;
  log: (line: string) => void;
}

export interface HttpTriggerServer {
  functionName: string;
  triggerName: string;
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

const SYNC_PAYLOAD_LIMIT = 32 * 1024 * 1024;

const triggerConfigSchema = z.looseObject({
  authType: z.string().default('anonymous'),
  methods: z.array(z.string().transform((m) => m.toUpperCase())).optional(),
});

/** What a function behind an HTTP trigger should return (§5.3); header values are forgiven being numbers. */
const httpResultSchema = z.object({
  statusCode: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  isBase64Encoded: z.boolean().optional(),
  body: z.string().optional(),
});

// Hop-by-hop headers and framing are the server's to set; FC also drops x-fc-* from a function's answer (§5.7).
const DROPPED_RESPONSE_HEADERS = /^(connection|keep-alive|transfer-encoding|content-length|upgrade|date|server|x-fc-.*)$/i;

/** `content-type` → `Content-Type`: the canonical form FC's gateway (Go) passes header names in. */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text when it is valid UTF-8, else base64 — FC's rule for `isBase64Encoded`. */
function encodeBody(body: Buffer): { body: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: '', isBase64Encoded: false };
  try {
    return { body: utf8.decode(body), isBase64Encoded: false };
  } catch {
    return { body: body.toString('base64'), isBase64Encoded: true };
  }
}

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // A malformed escape reaches the function as sent rather than failing the request.
    return raw;
  }
}

/** The FC 3.0 HTTP trigger event for one request (§5.3), exactly the fields FC sends. */
export function buildHttpTriggerEvent(input: {
  req: Pick<IncomingMessage, 'method' | 'url' | 'httpVersion' | 'headersDistinct'> & { socket: { remoteAddress?: string | undefined } };
  body: Buffer;
  requestId: string;
  accountId: string;
  domainName: string;
  domainPrefix: string;
  now?: number;
}): Record<string, unknown> {
  const { req } = input;
  const now = input.now ?? Date.now();
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) if (values) headers[canonicalHeaderName(name)] = values.join(',');
  const queryParameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(q === -1 ? '' : url.slice(q + 1))) queryParameters[key] = Object.hasOwn(queryParameters, key) ? `${queryParameters[key]},${value}` : value;
  const sourceIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return {
    version: 'v1',
    rawPath,
    ...encodeBody(input.body),
    headers,
    ...(Object.keys(queryParameters).length > 0 ? { queryParameters } : {}),
    requestContext: {
      accountId: input.accountId,
      domainName: input.domainName,
      domainPrefix: input.domainPrefix,
      http: { method: req.method ?? 'GET', path: decodePath(rawPath), protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent: req.headersDistinct['user-agent']?.join(',') ?? '' },
      requestId: input.requestId,
      time: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      timeEpoch: String(now),
    },
  };
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function jsonAnswer(status: number, value: unknown, headers: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: Buffer.from(JSON.stringify(value)) };
}

/** The function's return value as the HTTP answer: the struct when it is one, else the value as a 200 body (unconfirmed, §8 of the open points). */
function answerFromResult(result: unknown): Answer {
  const parsed = resultBytes(result) ? undefined : httpResultSchema.safeParse(result);
  if (parsed?.success) {
    const r = parsed.data;
    const headers = Object.fromEntries(Object.entries(r.headers ?? {}).filter(([k]) => !DROPPED_RESPONSE_HEADERS.test(k)));
    return { status: r.statusCode, headers, body: r.isBase64Encoded ? Buffer.from(r.body ?? '', 'base64') : Buffer.from(r.body ?? '', 'utf8') };
  }
  const { body, contentType } = resultToBody(result);
  return { status: 200, headers: contentType ? { 'content-type': contentType } : {}, body };
}

/** FC answers a function that failed behind an HTTP trigger with 502, one that ran out of time with 504. */
function answerFromError(e: unknown): Answer {
  const err = e instanceof InvocationError ? e : new InvocationError('FunctionError', e instanceof Error ? e.message : String(e));
  const status = err.kind === 'FunctionTimeout' ? 504 : 502;
  return jsonAnswer(status, { errorMessage: err.message, errorType: err.errorName ?? err.kind }, { 'x-fc-error-type': 'UnhandledInvocationError' });
}

export async function startHttpTrigger(o: HttpTriggerOptions): Promise<HttpTriggerServer> {
  const config = triggerConfigSchema.parse(o.trigger.triggerConfig);
  const methods = config.methods ? new Set(config.methods) : undefined;
  const maxBodyBytes = o.maxBodyBytes ?? SYNC_PAYLOAD_LIMIT;
  const label = `${o.functionName}/${o.trigger.triggerName}`;
  if (config.authType !== 'anonymous') o.log(`[fc:http] ${label}: authType ${config.authType} is not checked locally; every request is let through`);
  let domainName = '';

  async function handle(req: IncomingMessage, body: Buffer | 'too-large', requestId: string): Promise<Answer> {
    const method = (req.method ?? 'GET').toUpperCase();
    if (methods && !methods.has(method)) {
      return jsonAnswer(405, { ErrorCode: 'MethodNotAllowed', ErrorMessage: `method ${method} is not allowed by trigger ${o.trigger.triggerName} (allowed: ${[...methods].join(', ')})` }, { allow: [...methods].join(', ') });
    }
    if (body === 'too-large') return jsonAnswer(413, { ErrorCode: 'EntityTooLarge', ErrorMessage: `payload size exceeds maximum allowed size (${maxBodyBytes} bytes)` });
    const event = buildHttpTriggerEvent({ req, body, requestId, accountId: o.accountId, domainName, domainPrefix: o.functionName });
    try {
      return answerFromResult(await o.invoke(Buffer.from(JSON.stringify(event)), requestId));
    } catch (e) {
      return answerFromError(e);
    }
  }

  /** Writes the function's answer; returns what its log line says. */
  function send(req: IncomingMessage, res: ServerResponse, requestId: string, answer: Answer): string {
    let a = answer;
    try {
      res.writeHead(a.status, { ...a.headers, 'content-length': a.body.length, 'x-fc-request-id': requestId });
    } catch (e) {
      // A header the function returned that HTTP cannot carry (a newline, a bad name): the function's answer is broken.
      a = jsonAnswer(502, { errorMessage: `invalid response from the function: ${(e as Error).message}`, errorType: 'InvalidResponse' });
      res.writeHead(a.status, { ...a.headers, 'content-length': a.body.length, 'x-fc-request-id': requestId });
    }
    res.end(a.body);
    return `${o.functionName} ${req.method} ${req.url} ${a.status}`;
  }

  const listener = await listenHttp({
    host: o.host,
    port: o.port,
    body: { maxBytes: maxBodyBytes },
    requestId: (_req, startedAt) => fc3RequestId(startedAt),
    handle: async ({ req, res, requestId, body, oversize }) => send(req, res, requestId, await handle(req, oversize ? 'too-large' : body, requestId)),
    log: o.log,
    logPrefix: '[fc:http]',
    logRequestId: true,
  });
  const { port } = listener;
  domainName = `${o.host ?? '127.0.0.1'}:${port}`;
  return {
    functionName: o.functionName,
    triggerName: o.trigger.triggerName,
    endpoint: `http://${domainName}`,
    port,
    async close() {
      // A request in flight ends when the host closes the function's instances, after this.
      await listener.close({ waitForHandlers: false });
    },
  };
}
