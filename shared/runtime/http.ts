/**
 * The platform-neutral HTTP shapes — the one request/response pair every HTTP handler, chat codec
 * and route uses — and what the FC 3.0 and FC 2.0 HTTP adapters share: the body limit, the
 * handler-response check and the error mapping. A handler written against these runs behind an
 * FC 3.0 HTTP trigger, an FC 2.0 HTTP function or a test, unchanged.
 * @see docs/platform-facts.md §5.3, §5.7
 */
import { z } from 'zod';
import type { FleetrunContext } from './context.ts';
import type { Logger, LogSink } from './logger.ts';

export interface HttpRequest {
  method: string;
  /** Decoded path, e.g. `/runs/a b`. */
  path: string;
  /** Lower-case names; a header sent several times arrives comma-joined, as FC joins it. */
  headers: Record<string, string>;
  /** Decoded values; a parameter given several times arrives comma-joined. */
  query: Record<string, string>;
  /** The body exactly as received: signatures are computed over these bytes, never over a re-serialisation. */
  body: Buffer;
  sourceIp?: string;
}

export interface HttpResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export type HttpHandler = (request: HttpRequest, context: FleetrunContext) => Promise<HttpResponse>;

/**
 * An error meant for the HTTP caller: its status is answered, and its message too when `expose`
 * (by default for 4xx only, so a 5xx never leaks internals) — Middy's http-error-handler split.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    message: string,
    readonly expose = statusCode < 500,
  ) {
    super(message);
  }
}

/** Options both HTTP adapters take. */
export interface HttpAdapterOptions {
  /** Largest request body handed to the handler, in bytes; a bigger one is answered 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Where the context's logger writes (tests); stdout when omitted, as on FC. */
  logSink?: LogSink;
}

/** 1 MiB: far above what fleetrun's HTTP endpoints accept, far below FC's own 32 MB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const handlerResponseSchema = z.object({
  statusCode: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.union([z.string(), z.instanceof(Buffer)]).optional(),
});

/** The JSON answer: the value serialised, with its content type. Every JSON response is made here. */
export function jsonResponse(statusCode: number, value: unknown): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(value) };
}

/** What an error thrown by a handler becomes: exposed HttpErrors say why, anything else is a 500 that says nothing. */
export function errorToResponse(error: unknown, logger: Logger): HttpResponse {
  if (error instanceof HttpError && error.expose) {
    if (error.statusCode >= 500) logger.error('handler failed', { statusCode: error.statusCode, error: error.message });
    return jsonResponse(error.statusCode, { error: error.message });
  }
  const status = error instanceof HttpError ? error.statusCode : 500;
  // The caller learns nothing of the cause; the log keeps all of it.
  logger.error('handler failed', { statusCode: status, error: error instanceof Error ? error.message : String(error), errorName: error instanceof Error ? error.name : typeof error, stack: error instanceof Error ? error.stack : undefined });
  return jsonResponse(status, { error: 'internal error' });
}

/** Runs the handler and always yields a valid response: thrown errors and malformed returns are mapped. */
export async function runHttpHandler(handler: HttpHandler, request: HttpRequest, context: FleetrunContext): Promise<HttpResponse> {
  let response: unknown;
  try {
    response = await handler(request, context);
  } catch (e) {
    return errorToResponse(e, context.logger);
  }
  const parsed = handlerResponseSchema.safeParse(response);
  if (!parsed.success) {
    context.logger.error('handler returned no valid HttpResponse', { issue: parsed.error.issues[0]?.message, path: parsed.error.issues[0]?.path.join('.') });
    return jsonResponse(500, { error: 'internal error' });
  }
  return parsed.data;
}

/** Header or query values merged under one key, comma-joined as FC does for repeated ones. */
export function joinValues(entries: Iterable<[string, string | readonly string[] | undefined]>, lowerCaseKeys: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawKey, value] of entries) {
    if (value === undefined) continue;
    const key = lowerCaseKeys ? rawKey.toLowerCase() : rawKey;
    const joined = typeof value === 'string' ? value : value.join(',');
    out[key] = Object.hasOwn(out, key) ? `${out[key]},${joined}` : joined;
  }
  return out;
}

export function payloadTooLarge(limit: number): HttpResponse {
  return jsonResponse(413, { error: `the request body is larger than ${limit} bytes` });
}
