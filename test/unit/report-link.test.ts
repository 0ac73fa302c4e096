import { describe, expect, it } from 'vitest';
import { reportLinks } from '../../shared/chatops/report-links.ts';
import { isReportRequest, REPORT_HEADERS, serveReport } from '../../shared/chatops/report-route.ts';
import { replyOnce } from '../../shared/pipeline/final-reply.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import { checkReportLink, reportLinkKey, signReportLink } from '../../shared/runs/report-link.ts';
import { SummaryBuilder } from '../../shared/runs/summary.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import type { HttpRequest } from '../../shared/runtime/http.ts';
import { MemoryStore } from '../support/memory-store.ts';

const SEAL_KEY = 'a-seal-key-of-at-least-16-characters';
const BASE = 'https://fleetrun-chatops-abcdef.cn-hangzhou.fcapp.run';
const RUN = 'r-20261202t003000-abc123';
const NOW = new Date('2026-12-02T00:30:00Z');
const IN_A_WEEK = Math.floor(NOW.getTime() / 1000) + 7 * 86400;
const key = reportLinkKey(SEAL_KEY);

function partsOf(link: string) {
  const url = new URL(link);
  return { url, runId: url.pathname.split('/').at(-1)!, expires: url.searchParams.get('expires') ?? undefined, sig: url.searchParams.get('sig') ?? undefined };
}

describe('Function: signReportLink / checkReportLink', () => {
  it('makes a chatops /reports link that checks out until it expires', () => {
    // Prepare
    const link = signReportLink(`${BASE}/`, RUN, IN_A_WEEK, key);
    // Act
    const p = partsOf(link);
    // Assess
    expect(`${p.url.origin}${p.url.pathname}`).toBe(`${BASE}/reports/${RUN}`);
    expect(p.expires).toBe(String(IN_A_WEEK));
    expect(p.sig).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(checkReportLink(p.runId, p, key, NOW)).toEqual({ ok: true });
    expect(checkReportLink(p.runId, p, key, new Date(IN_A_WEEK * 1000 - 1000))).toEqual({ ok: true });
  });

  it('refuses the signature for another run id', () => {
    // Prepare
    const p = partsOf(signReportLink(BASE, RUN, IN_A_WEEK, key));
    // Act
    const other = checkReportLink('r-20261202t003000-abc124', p, key, NOW);
    // Assess
    expect(other).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a later expiry than the one signed, and a non-canonical spelling of it', () => {
    // Prepare
    const p = partsOf(signReportLink(BASE, RUN, IN_A_WEEK, key));
    // Act
    const later = checkReportLink(RUN, { ...p, expires: String(IN_A_WEEK + 86400 * 365) }, key, NOW);
    const padded = checkReportLink(RUN, { ...p, expires: `0${IN_A_WEEK}` }, key, NOW);
    // Assess
    expect(later).toEqual({ ok: false, reason: 'bad-signature' });
    expect(padded).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses a genuine link once its time is up', () => {
    // Prepare
    const p = partsOf(signReportLink(BASE, RUN, IN_A_WEEK, key));
    // Act
    const atExpiry = checkReportLink(RUN, p, key, new Date(IN_A_WEEK * 1000));
    // Assess
    expect(atExpiry).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a link signed with another seal key, and one signed with the raw seal key', () => {
    // Prepare
    const otherKey = signReportLink(BASE, RUN, IN_A_WEEK, reportLinkKey('another-seal-key-of-16-chars'));
    const rawKey = signReportLink(BASE, RUN, IN_A_WEEK, Buffer.from(SEAL_KEY, 'utf8'));
    // Act
    const checks = [otherKey, rawKey].map((l) => checkReportLink(RUN, partsOf(l), key, NOW));
    // Assess
    expect(checks).toEqual([{ ok: false, reason: 'bad-signature' }, { ok: false, reason: 'bad-signature' }]);
    expect(reportLinkKey(SEAL_KEY).equals(Buffer.from(SEAL_KEY))).toBe(false);
  });

  it('refuses missing, truncated and malformed parameters and run ids that are no run id', () => {
    // Prepare
    const p = partsOf(signReportLink(BASE, RUN, IN_A_WEEK, key));
    // Act
    const checks = [
      checkReportLink(RUN, { expires: p.expires }, key, NOW),
      checkReportLink(RUN, { sig: p.sig }, key, NOW),
      checkReportLink(RUN, { ...p, sig: p.sig!.slice(0, 20) }, key, NOW),
      checkReportLink(RUN, { ...p, sig: `${p.sig!}=` }, key, NOW),
      checkReportLink(RUN, { ...p, expires: '-1' }, key, NOW),
      checkReportLink('../../secrets', p, key, NOW),
    ];
    // Assess
    expect(checks.map((c) => (c.ok ? 'ok' : c.reason))).toEqual(['malformed', 'malformed', 'bad-signature', 'malformed', 'malformed', 'malformed']);
  });
});

describe('Function: reportLinks', () => {
  it('signs chatops links valid for the configured days', () => {
    // Prepare
    const links = reportLinks({ publicUrl: BASE, sealKey: SEAL_KEY, days: 30, store: new MemoryStore(), logger: createLogger({ sink: () => {} }), now: () => NOW });
    // Act
    const p = partsOf(links(RUN));
    // Assess
    expect(p.url.origin).toBe(BASE);
    expect(Number(p.expires)).toBe(Math.floor(NOW.getTime() / 1000) + 30 * 86400);
    expect(checkReportLink(RUN, p, key, NOW)).toEqual({ ok: true });
  });

  it('falls back to the presigned OSS URL without a public URL, and says so', () => {
    // Prepare
    const lines: string[] = [];
    const links = reportLinks({ sealKey: SEAL_KEY, store: new MemoryStore(), logger: createLogger({ sink: (l) => lines.push(l) }) });
    // Act
    const link = links(RUN);
    // Assess
    expect(link).toBe(`memory://${runKeys.report(RUN)}`);
    expect(lines.join('\n')).toMatch(/FLEETRUN_PUBLIC_URL/);
  });

  it('is the link a final reply carries when the replier has one', async () => {
    // Prepare
    const manifest = runManifestSchema.parse({ version: 1, runId: RUN, createdAt: NOW.toISOString(), requestedBy: { kind: 'cli' }, command: { name: 'link-check', type: 'RunShellScript', timeoutSeconds: 60 }, targets: [], output: { mode: 'fetch' } });
    const sent: string[] = [];
    const reportLink = reportLinks({ publicUrl: BASE, sealKey: SEAL_KEY, store: new MemoryStore(), logger: createLogger({ sink: () => {} }), now: () => NOW });
    // Act
    await replyOnce(manifest, new SummaryBuilder(manifest).build(), { store: new MemoryStore(), chat: { reply: async (_m, _s, url) => void sent.push(url), reportLink }, logger: createLogger({ sink: () => {} }) });
    // Assess
    expect(sent).toHaveLength(1);
    expect(sent[0]!.startsWith(`${BASE}/reports/${RUN}?expires=`)).toBe(true);
  });
});

describe('Function: serveReport', () => {
  const store = new MemoryStore();
  const logger = createLogger({ sink: () => {} });
  const request = (link: string, method = 'GET'): HttpRequest => {
    const url = new URL(link);
    return { method, path: url.pathname, headers: {}, query: Object.fromEntries(url.searchParams), body: Buffer.alloc(0) };
  };

  it('serves report.html as a page under a restrictive policy, 403 for a tampered link, 404 without a report', async () => {
    // Prepare
    await store.put(runKeys.report(RUN), '<!doctype html><h1>report</h1>');
    const good = signReportLink(BASE, RUN, IN_A_WEEK, key);
    const noReport = signReportLink(BASE, 'r-20261202t003000-none00', IN_A_WEEK, key);
    const deps = { store, sealKey: SEAL_KEY, logger, now: () => NOW };
    // Act
    const ok = await serveReport(request(good), deps);
    const tampered = await serveReport(request(good.replace(/expires=\d+/, `expires=${IN_A_WEEK + 1}`)), deps);
    const expired = await serveReport(request(good), { ...deps, now: () => new Date(IN_A_WEEK * 1000 + 1) });
    const missing = await serveReport(request(noReport), deps);
    const posted = await serveReport(request(good, 'POST'), deps);
    // Assess
    expect(isReportRequest(request(good))).toBe(true);
    expect(isReportRequest({ path: '/webhook' })).toBe(false);
    expect(ok.statusCode).toBe(200);
    expect(ok.headers).toEqual(REPORT_HEADERS);
    expect(ok.headers!['content-type']).toBe('text/html; charset=utf-8');
    expect(ok.headers!['content-security-policy']).toContain("default-src 'none'");
    expect(ok.body!.toString()).toContain('<h1>report</h1>');
    expect([tampered.statusCode, expired.statusCode, missing.statusCode, posted.statusCode]).toEqual([403, 403, 404, 405]);
    expect(expired.body).toContain(`status ${RUN}`);
    expect(tampered.body).not.toContain('report</h1>');
  });
});
