/**
 * The FC 3.0 adapter for HTTP triggers: FC hands a built-in runtime the request as a JSON event in
 * a Buffer and expects `{ statusCode, headers, isBase64Encoded, body }` back. The adapter turns the
 * event into an HttpRequest, enforces the body limit before the handler runs, maps errors, and
 * encodes binary answers in base64.
 * @see docs/platform-facts.md §5.3
 */
import { z } from 'zod';
import { compactBase64, decodedLength } from './base64.ts';
import type { FleetrunContext } from './context.ts';
import { toFleetrunContext } from './fc3-event.ts';
import { DEFAULT_MAX_BODY_BYTES, jsonResponse, joinValues, payloadTooLarge, runHttpHandler, type HttpAdapterOptions, type HttpHandler, type HttpRequest, type HttpResponse } from './http.ts';

/** The HTTP trigger event, after `JSON.parse(event)`. Lenient about what the handler does not need. */
export const fc3HttpEventSchema = z.looseObject({
  version: z.string().optional(),
  rawPath: z.string(),
  body: z.string().default(''),
  isBase64Encoded: z.boolean().default(false),
  headers: z.record(z.string(), z.string()).default({}),
  queryParameters: z.record(z.string(), z.string()).default({}),
  requestContext: z.looseObject({
    accountId: z.string().optional(),
    domainName: z.string().optional(),
    requestId: z.string().optional(),
    http: z.looseObject({
      method: z.string().min(1),
      path: z.string(),
      protocol: z.string().optional(),
      sourceIp: z.string().optional(),
      userAgent: z.string().optional(),
    }),
  }),
});
export type Fc3HttpEvent = z.output<typeof fc3HttpEventSchema>;

/** What an FC 3.0 HTTP function returns to FC. */
export interface Fc3HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  isBase64Encoded: boolean;
  body: string;
}

/** The FC 3.0 answer for a neutral response: Buffers always go base64, since FC's body is a string. */
export function toFc3HttpResult(response: HttpResponse): Fc3HttpResult {
  const body = response.body ?? '';
  const binary = Buffer.isBuffer(body);
  return { statusCode: response.statusCode, headers: { ...response.headers }, isBase64Encoded: binary, body: binary ? body.toString('base64') : body };
}

type Parsed = { ok: true; request: HttpRequest } | { ok: false; response: HttpResponse; reason: string };

function parseEvent(event: unknown, maxBodyBytes: number): Parsed {
  let json: unknown = event;
  if (Buffer.isBuffer(event) || typeof event === 'string') {
    try {
      json = JSON.parse(event.toString());
    } catch {
      return { ok: false, response: jsonResponse(400, { error: 'malformed HTTP trigger event' }), reason: 'the event is not JSON' };
    }
  }
  const parsed = fc3HttpEventSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, response: jsonResponse(400, { error: 'malformed HTTP trigger event' }), reason: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  const e = parsed.data;
  const compact = e.isBase64Encoded ? compactBase64(e.body) : '';
  if (compact === undefined) {
    return { ok: false, response: jsonResponse(400, { error: 'malformed HTTP trigger event' }), reason: 'body: isBase64Encoded but not base64' };
  }
  // Checked on the decoded size, and before decoding: a base64 body is 4/3 of its bytes.
  const size = e.isBase64Encoded ? decodedLength(compact) : Buffer.byteLength(e.body);
  if (size > maxBodyBytes) return { ok: false, response: payloadTooLarge(maxBodyBytes), reason: `body of ${size} bytes over the ${maxBodyBytes}-byte limit` };
  const http = e.requestContext.http;
  return {
    ok: true,
    request: {
      method: http.method.toUpperCase(),
      path: http.path,
      headers: joinValues(Object.entries(e.headers), true),
      query: { ...e.queryParameters },
      body: e.isBase64Encoded ? Buffer.from(compact, 'base64') : Buffer.from(e.body, 'utf8'),
      ...(http.sourceIp ? { sourceIp: http.sourceIp } : {}),
    },
  };
}

/**
 * `handler(request, context)` as FC 3.0's `(event: Buffer, context)` for an HTTP trigger. A
 * malformed event is answered 400 and a body over `maxBodyBytes` 413, neither reaching the handler.
 */
export function fc3HttpHandler(handler: HttpHandler, fallback: { functionName: string; region: string; accountId: string }, options: HttpAdapterOptions = {}) {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async (event: Buffer | string, fcContext: unknown): Promise<Fc3HttpResult> => {
    const context: FleetrunContext = toFleetrunContext(fcContext, fallback, options.logSink);
    const parsed = parseEvent(event, maxBodyBytes);
    if (!parsed.ok) {
      context.logger.warn('request refused before the handler', { statusCode: parsed.response.statusCode, reason: parsed.reason });
      return toFc3HttpResult(parsed.response);
    }
    return toFc3HttpResult(await runHttpHandler(handler, parsed.request, context));
  };
}
