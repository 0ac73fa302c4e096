/**
 * `GET /reports/<run>?expires=<unix>&sig=<base64url>` on chatops' HTTP trigger: the report link of
 * a chat reply (report-link.ts). The link is checked, and the run's report.html is read from the
 * private bucket with chatops' role and served as a page — OSS itself would serve HTML from its
 * default domain as a download, and only to a URL presigned with a short-lived STS token.
 */
import { checkReportLink, reportLinkKey } from '../runs/report-link.ts';
import { runKeys } from '../runs/keys.ts';
import type { HttpRequest, HttpResponse } from '../runtime/http.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';

const REPORT_PATH = /^\/reports\/([^/]+)\/?$/;

/**
 * report.html is self-contained: one inline <style>, inline style attributes and inline SVG; no
 * script, image, font or request of its own. So nothing may load or run, and the page may not be
 * framed; the link's signature stays out of Referer headers.
 */
export const REPORT_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'private, no-store',
};

export interface ReportRouteDeps {
  store: Pick<ObjectStore, 'get'>;
  /** FLEETRUN_SEAL_KEY: the link key derives from it (report-link.ts). */
  sealKey?: string | undefined;
  logger: Logger;
  now?: () => Date;
}

/** Whether the request is for a report rather than a chat webhook. */
export function isReportRequest(request: Pick<HttpRequest, 'path'>): boolean {
  return REPORT_PATH.test(request.path);
}

function text(statusCode: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { statusCode, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...headers }, body: `${body}\n` };
}

export async function serveReport(request: HttpRequest, deps: ReportRouteDeps): Promise<HttpResponse> {
  const runId = REPORT_PATH.exec(request.path)?.[1] ?? '';
  if (request.method !== 'GET') return text(405, 'Reports are read with GET.', { allow: 'GET' });
  if (!deps.sealKey) return text(404, 'Report links are not enabled here (no FLEETRUN_SEAL_KEY).');
  const check = checkReportLink(runId, { expires: request.query.expires, sig: request.query.sig }, reportLinkKey(deps.sealKey), deps.now?.() ?? new Date());
  if (!check.ok) {
    deps.logger.warn('report link refused', { runId: runId.slice(0, 64), reason: check.reason });
    return text(403, check.reason === 'expired' ? `This report link has expired. Ask for a new one in chat: status ${runId}` : 'This report link is not valid.');
  }
  const html = await deps.store.get(runKeys.report(runId));
  if (!html) return text(404, `Run ${runId} has no report (yet).`);
  return { statusCode: 200, headers: { ...REPORT_HEADERS }, body: html };
}
