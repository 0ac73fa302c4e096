/**
 * For the tests of the FC HTTP adapters (shared/runtime/fc2-http.ts, fc3-http.ts): an adapter
 * around a handler that records every request it is handed, with the log lines the adapter writes.
 */
import type { HttpAdapterOptions, HttpHandler, HttpRequest } from '../../shared/runtime/http.ts';

/** What the adapter falls back to for the context when FC's leaves a field out. */
export const ADAPTER_FALLBACK = { functionName: 'fleetrun-chat', region: 'cn-hangzhou', accountId: '1234567890123456' };

type HttpAdapter<Handler> = (handler: HttpHandler, fallback: typeof ADAPTER_FALLBACK, options: HttpAdapterOptions) => Handler;

/**
 * `adapter` around a handler that answers with `respond`: `seen` holds the requests that reached
 * it, `lines` what the context's logger wrote. `maxBodyBytes` left out keeps the adapter's default.
 */
export function recordingAdapter<Handler>(adapter: HttpAdapter<Handler>, respond: HttpHandler, maxBodyBytes?: number): { handler: Handler; seen: HttpRequest[]; lines: string[] } {
  const seen: HttpRequest[] = [];
  const lines: string[] = [];
  const handler = adapter(
    async (req, ctx) => {
      seen.push(req);
      return respond(req, ctx);
    },
    ADAPTER_FALLBACK,
    { logSink: (l) => lines.push(l), ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}) },
  );
  return { handler, seen, lines };
}
