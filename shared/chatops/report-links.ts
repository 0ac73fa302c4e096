/**
 * The report link a chat reply carries: fleetrun's signed link to chatops' `/reports/<run>` when
 * chatops' public URL and a seal key are configured; otherwise (a deployment not yet told its
 * URL) today's presigned OSS URL, with one warning, so replies still link somewhere.
 */
import { DEFAULT_REPORT_LINK_DAYS } from '../config/env.ts';
import { reportLinkKey, signReportLink } from '../runs/report-link.ts';
import { runKeys } from '../runs/keys.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ObjectStore } from '../store/port.ts';

/** runId → the URL a person opens to see the run's report. */
export type ReportLinkFor = (runId: string) => string;

export interface ReportLinkOptions {
  /** chatops' public URL (FLEETRUN_PUBLIC_URL). */
  publicUrl?: string | undefined;
  /** FLEETRUN_SEAL_KEY; the link key is derived from it. */
  sealKey?: string | undefined;
  days?: number;
  /** Signs the fallback URL. */
  store: Pick<ObjectStore, 'signedUrl'>;
  logger: Logger;
  now?: () => Date;
}

/** Once per process: the functions build their links per invocation, and one warning says it all. */
let warnedOfPresigned = false;

export function reportLinks(o: ReportLinkOptions): ReportLinkFor {
  const seconds = (o.days ?? DEFAULT_REPORT_LINK_DAYS) * 24 * 3600;
  const now = o.now ?? (() => new Date());
  if (o.publicUrl && o.sealKey) {
    const key = reportLinkKey(o.sealKey);
    const base = o.publicUrl;
    return (runId) => signReportLink(base, runId, Math.floor(now().getTime() / 1000) + seconds, key);
  }
  return (runId) => {
    if (!warnedOfPresigned) {
      warnedOfPresigned = true;
      o.logger.warn('report links are presigned OSS URLs, which stop working when the function role\'s STS token expires (about an hour): set FLEETRUN_PUBLIC_URL to chatops\' HTTP trigger URL' + (o.sealKey ? '' : ' and FLEETRUN_SEAL_KEY'));
    }
    return o.store.signedUrl(runKeys.report(runId), seconds);
  };
}
