/**
 * report.html as a person sees it: served by chatops' report route (its signed link, its
 * content-security-policy) and rendered by headless Chromium (Debian's package, which .ci/run
 * installs), the screenshot must show the status chart's bars, the output groups above the table
 * and the failing instance's red row — so the policy blocks nothing the self-contained page needs.
 *
 * The README shows this screenshot (docs/report.png): run the test with FLEETRUN_README_SCREENSHOT=1
 * to write it there after it passed its checks.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { serveReport } from '../../shared/chatops/report-route.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import { reportLinkKey, signReportLink } from '../../shared/runs/report-link.ts';
import { renderHtml } from '../../shared/runs/render-html.ts';
import { SummaryBuilder } from '../../shared/runs/summary.ts';
import { createLogger } from '../../shared/runtime/logger.ts';
import { MemoryStore } from '../support/memory-store.ts';

const run = promisify(execFile);
const README_SCREENSHOT = path.resolve(import.meta.dirname, '../../docs/report.png');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const SEAL_KEY = 'report-screenshot-seal-key';
let dir: string;
let server: Server | undefined;
afterAll(async () => {
  server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** chatops' report route on loopback, reading from `store`: the page and headers a person's browser gets. */
async function serveReports(store: MemoryStore): Promise<string> {
  const logger = createLogger({ sink: () => {} });
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    void serveReport({ method: req.method ?? 'GET', path: url.pathname, headers: {}, query: Object.fromEntries(url.searchParams), body: Buffer.alloc(0) }, { store, sealKey: SEAL_KEY, logger }).then((a) => res.writeHead(a.statusCode, a.headers).end(a.body));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function chromium(args: string[]) {
  return run(CHROMIUM!, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, 'profile')}`, ...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
}

/** Pixels within `within` of a colour in each channel. */
function countColour(png: PNG, [r, g, b]: [number, number, number], within = 12): number {
  let n = 0;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const i = (png.width * y + x) * 4;
      if (Math.abs(png.data[i]! - r) < within && Math.abs(png.data[i + 1]! - g) < within && Math.abs(png.data[i + 2]! - b) < within) n++;
    }
  }
  return n;
}

describe('report.html in Chromium', () => {
  it.runIf(CHROMIUM || process.env.CI)('shows the status chart, the output groups above the table and the failing instance', async () => {
    expect(CHROMIUM, 'Debian chromium must be installed (.ci/run does it)').toBeDefined();
    dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-shot-'));
    // disk-check on the instances tagged env=demo, numbers masked: eleven healthy disks give one
    // answer, one is full, one was never sent (its agent offline).
    const ids = Array.from({ length: 13 }, (_, i) => `i-bp1shot${String(i).padStart(6, '0')}`);
    const names = Object.fromEntries(ids.map((id, n) => [id, n === 4 ? 'db-1' : n === 12 ? 'edge-1' : `web-${n + 1}`]));
    const manifest = runManifestSchema.parse({
      version: 1, runId: 'r-20261123t100000-shot01', createdAt: '2026-11-23T10:00:00.000Z', requestedBy: { kind: 'chat', user: 'slack:U1' },
      command: { name: 'disk-check', type: 'RunShellScript', timeoutSeconds: 60, group: { mask: ['numbers'] } },
      targets: ids, targetTags: { env: 'demo' }, instanceNames: names, skipped: [{ instanceId: ids[12]!, reason: 'ClientNotRunning' }], output: { mode: 'fetch' },
    });
    const b = new SummaryBuilder(manifest);
    const df = (used: number) => `Filesystem      Size  Used Avail Use% Mounted on\n/dev/vda1        40G  ${Math.round(used * 0.4)}G  ${40 - Math.round(used * 0.4)}G  ${used}% /\n`;
    ids.slice(0, 12).forEach((id, n) =>
      b.add({
        version: 1, runId: manifest.runId, invokeId: 't-1', commandId: 'c-1', instanceId: id, status: n === 4 ? 'Failed' : 'Success', exitCode: n === 4 ? 2 : 0,
        errorCode: n === 4 ? 'ExitCodeNonzero' : '', errorInfo: '', startTime: '2026-11-23T10:00:01Z', finishTime: `2026-11-23T10:00:${String(1 + (n % 4)).padStart(2, '0')}Z`,
        output: n === 4 ? `${df(98)}ERROR: / is 98% full\n` : df(20 + n * 3), outputBytes: 120, source: 'event',
      }),
    );
    const summary = b.build();
    expect(summary.groups.map((g) => g.count)).toEqual([1, 1, 11]);
    const store = new MemoryStore();
    await store.put(runKeys.report(manifest.runId), renderHtml(summary));
    const link = signReportLink(await serveReports(store), manifest.runId, Math.floor(Date.now() / 1000) + 3600, reportLinkKey(SEAL_KEY));
    const served = await fetch(link);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-security-policy')).toContain("default-src 'none'");

    const dom = (await chromium(['--dump-dom', link])).stdout;
    expect(dom).toMatch(/<svg id="status-chart"[^>]*>.*<rect/s);
    // The groups section, above the table: three answers, the healthy eleven as one, numbers masked.
    const groups = /<section id="groups"[\s\S]*?<\/section>/.exec(dom)?.[0];
    expect(groups, 'the groups section').toBeDefined();
    expect(dom.indexOf('<section id="groups"')).toBeLessThan(dom.indexOf('<table id="instances"'));
    expect(groups!.match(/<div class="group /g)).toHaveLength(3);
    const masked = 'Filesystem      Size  Used Avail Use% Mounted on\n/dev/vda<n>        <n>G  <n>G  <n>G  <n>% /';
    expect(groups).toContain(`<pre class="group-output">${masked.replace(/</g, '&lt;').replace(/>/g, '&gt;')}</pre>`);
    expect(groups).toMatch(/<b>11 instances<\/b>/);
    const shot = path.join(dir, 'report.png');
    await chromium(['--window-size=1280,1400', `--screenshot=${shot}`, link]);
    const png = PNG.sync.read(await readFile(shot));
    // The groups section is on screen and styled: the dark <pre> of each group's output (two boxes
    // across the page, about 135,000 pixels here; the failing row's own <pre>, in its narrow output
    // cell, is under 30,000).
    expect(countColour(png, [0x0f, 0x17, 0x20], 4), "the groups' output boxes").toBeGreaterThan(100_000);
    // The chart's green Success bar and red Failed bar, and the failing row's and group's pale red background
    // (close to exactly: white is within a loose distance of it). Unstyled — a policy that blocked the
    // inline <style> — the page shows about a fifth of the green, a tenth of the red and none of the pale red.
    expect(countColour(png, [0x1f, 0x9d, 0x55])).toBeGreaterThan(10_000);
    expect(countColour(png, [0xd6, 0x45, 0x45])).toBeGreaterThan(2000);
    expect(countColour(png, [0xff, 0xf5, 0xf5], 4)).toBeGreaterThan(2000);
    if (process.env.FLEETRUN_README_SCREENSHOT === '1') await copyFile(shot, README_SCREENSHOT);
  }, 120_000);
});
