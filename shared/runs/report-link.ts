/**
 * fleetrun's own links to a run's report: `<chatops>/reports/<run>?expires=<unix>&sig=<base64url>`,
 * an HMAC-SHA256 over the run id and the expiry. An OSS presigned URL is signed with the function
 * role's STS token and dies with it (about an hour); this link lives as long as fleetrun says, and
 * the bucket stays private because chatops reads the report with its own role and serves it.
 *
 * The key is derived from FLEETRUN_SEAL_KEY with HKDF under a label of its own, so the seal key is
 * never used raw for a second purpose, and a leaked link key opens no sealed secret.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { RUN_ID } from './keys.ts';

/** HKDF's `info`: the purpose this key is for. A new version of the link format gets a new label. */
const KEY_LABEL = 'fleetrun report links v1';

export function reportLinkKey(sealKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(sealKey, 'utf8'), Buffer.alloc(0), KEY_LABEL, 32));
}

function signature(runId: string, expires: number, key: Buffer): Buffer {
  // A newline cannot occur in a run id, so `run\nexpiry` names one pair only.
  return createHmac('sha256', key).update(`${runId}\n${expires}`).digest();
}

/** Path of a run's report under the chatops HTTP trigger. */
export function reportPath(runId: string): string {
  return `/reports/${runId}`;
}

/** The link, valid until `expires` (Unix seconds). `baseUrl` is chatops' public URL. */
export function signReportLink(baseUrl: string, runId: string, expires: number, key: Buffer): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + reportPath(runId));
  url.searchParams.set('expires', String(expires));
  url.searchParams.set('sig', signature(runId, expires, key).toString('base64url'));
  return url.toString();
}

export type ReportLinkCheck = { ok: true } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

/** Checks a link's `expires` and `sig` for `runId`: the signature first (in constant time), then the time. */
export function checkReportLink(runId: string, query: { expires?: string | undefined; sig?: string | undefined }, key: Buffer, now: Date): ReportLinkCheck {
  if (!RUN_ID.test(runId) || !query.expires || !/^[1-9]\d{0,14}$/.test(query.expires) || !query.sig || !/^[A-Za-z0-9_-]+$/.test(query.sig)) return { ok: false, reason: 'malformed' };
  const expires = Number(query.expires);
  const given = Buffer.from(query.sig, 'base64url');
  const wanted = signature(runId, expires, key);
  // timingSafeEqual needs equal lengths; the length of a valid signature is no secret.
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { ok: false, reason: 'bad-signature' };
  if (expires * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true };
}
