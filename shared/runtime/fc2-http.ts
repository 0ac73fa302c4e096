/**
 * The FC 2.0 adapter for HTTP functions: FC 2.0 calls `handler(req, resp, context)` with a
 * request stream carrying headers, path, queries, method and clientIP, and a response object
 * written through setStatusCode / setHeader / send. The adapter gives the same HttpHandler as
 * fc3-http.ts the same HttpRequest, with the same body limit and error mapping.
 * @see docs/platform-facts.md §5.7
 */
import { z } from 'zod';
import type { FleetrunContext } from './context.ts';
import { toFleetrunContext } from './fc3-event.ts';
import { DEFAULT_MAX_BODY_BYTES, jsonResponse, joinValues, payloadTooLarge, runHttpHandler, type HttpAdapterOptions, type HttpHandler, type HttpResponse } from './http.ts';

/** The part of FC 2.0's `resp` the adapter writes through. */
export interface Fc2HttpResponse {
  setStatusCode(code: number): void;
  setHeader(name: string, value: string): void;
  send(body: string | Buffer): void;
}

const valuesSchema = z.record(z.string(), z.union([z.string(), z.array(z.string())]).optional()).default({});

/** The request FC 2.0 passes; the body is read from the object itself (a stream) unless `body` is set. */
const fc2RequestSchema = z.looseObject({
  method: z.string().min(1),
  path: z.string(),
  headers: valuesSchema,
  queries: valuesSchema,
  clientIP: z.string().optional(),
  // Some FC 2.0 runtimes pre-read the body; anything but bytes or text there is ignored.
  body: z.unknown().optional(),
});

const fc2ResponseSchema = z.looseObject({
  setStatusCode: z.custom<Fc2HttpResponse['setStatusCode']>((v) => typeof v === 'function'),
  setHeader: z.custom<Fc2HttpResponse['setHeader']>((v) => typeof v === 'function'),
  send: z.custom<Fc2HttpResponse['send']>((v) => typeof v === 'function'),
});

function isAsyncIterable(value: unknown): value is AsyncIterable<Buffer | string> {
  return value !== null && typeof value === 'object' && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** Reads the body, giving up (and dropping the rest) as soon as it passes the limit. */
async function readBody(req: unknown, given: Buffer | string | undefined, limit: number): Promise<Buffer | 'too-large'> {
  if (given !== undefined) {
    const body = Buffer.isBuffer(given) ? given : Buffer.from(given, 'utf8');
    return body.length > limit ? 'too-large' : body;
  }
  if (!isAsyncIterable(req)) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += b.length;
    // Leaving the loop destroys the stream: nothing more of an oversized body is buffered.
    if (size > limit) return 'too-large';
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function write(resp: Fc2HttpResponse, response: HttpResponse): void {
  resp.setStatusCode(response.statusCode);
  for (const [name, value] of Object.entries(response.headers ?? {})) resp.setHeader(name, value);
  resp.send(response.body ?? '');
}

/**
 * `handler(request, context)` as FC 2.0's HTTP handler `(req, resp, context)`. The returned promise
 * settles once `resp.send` was called (FC ignores it; tests await it). A request FC could not have
 * sent is answered 400, a body over `maxBodyBytes` 413, neither reaching the handler.
 */
export function fc2HttpHandler(handler: HttpHandler, fallback: { functionName: string; region: string; accountId: string }, options: HttpAdapterOptions = {}) {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async (req: unknown, resp: Fc2HttpResponse, fcContext: unknown): Promise<void> => {
    const out = fc2ResponseSchema.parse(resp) as Fc2HttpResponse;
    const context: FleetrunContext = toFleetrunContext(fcContext, fallback, options.logSink);
    const parsed = fc2RequestSchema.safeParse(req);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      context.logger.warn('request refused before the handler', { statusCode: 400, reason: `${issue.path.join('.') || '(root)'}: ${issue.message}` });
      return write(out, jsonResponse(400, { error: 'malformed HTTP request' }));
    }
    const r = parsed.data;
    let body: Buffer | 'too-large';
    try {
      body = await readBody(req, Buffer.isBuffer(r.body) || typeof r.body === 'string' ? r.body : undefined, maxBodyBytes);
    } catch (e) {
      // The client went away or the stream broke: there is no request to hand over.
      context.logger.warn('request body could not be read', { error: (e as Error).message });
      return write(out, jsonResponse(400, { error: 'the request body could not be read' }));
    }
    if (body === 'too-large') {
      context.logger.warn('request refused before the handler', { statusCode: 413, reason: `body over the ${maxBodyBytes}-byte limit` });
      return write(out, payloadTooLarge(maxBodyBytes));
    }
    const response = await runHttpHandler(
      handler,
      {
        method: r.method.toUpperCase(),
        path: r.path,
        headers: joinValues(Object.entries(r.headers), true),
        query: joinValues(Object.entries(r.queries), false),
        body,
        ...(r.clientIP ? { sourceIp: r.clientIP } : {}),
      },
      context,
    );
    write(out, response);
  };
}
