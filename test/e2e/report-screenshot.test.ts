/**
 * report.html as a person sees it: rendered by headless Chromium (Debian's package, which .ci/run
 * installs), the screenshot must show the status chart's bars and the failing instance's red row.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import { renderHtml } from '../../shared/runs/render-html.ts';
import { SummaryBuilder } from '../../shared/runs/summary.ts';

const run = promisify(execFile);
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
let dir: string;
afterAll(async () => dir && rm(dir, { recursive: true, force: true }));

function chromium(args: string[]) {
  return run(CHROMIUM!, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, 'profile')}`, ...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
}

/** Pixels within a small distance of a colour. */
function countColour(png: PNG, [r, g, b]: [number, number, number], box?: { x0: number; y0: number; x1: number; y1: number }): number {
  let n = 0;
  for (let y = box?.y0 ?? 0; y < (box?.y1 ?? png.height); y++) {
    for (let x = box?.x0 ?? 0; x < (box?.x1 ?? png.width); x++) {
      const i = (png.width * y + x) * 4;
      if (Math.abs(png.data[i]! - r) < 12 && Math.abs(png.data[i + 1]! - g) < 12 && Math.abs(png.data[i + 2]! - b) < 12) n++;
    }
  }
  return n;
}

describe('report.html in Chromium', () => {
  it.runIf(CHROMIUM || process.env.CI)('shows the status chart and the failing instance', async () => {
    expect(CHROMIUM, 'Debian chromium must be installed (.ci/run does it)').toBeDefined();
    dir = await mkdtemp(path.join(tmpdir(), 'fleetrun-shot-'));
    const ids = Array.from({ length: 12 }, (_, i) => `i-shot${String(i).padStart(6, '0')}`);
    const manifest = runManifestSchema.parse({ version: 1, runId: 'r-20261123t100000-shot01', createdAt: '2026-11-23T10:00:00.000Z', requestedBy: { kind: 'chat', user: 'slack:U1' }, command: { name: 'disk-check', type: 'RunShellScript', timeoutSeconds: 60 }, targets: ids, output: { mode: 'fetch' } });
    const b = new SummaryBuilder(manifest);
    ids.forEach((id, n) => b.add({ version: 1, runId: manifest.runId, invokeId: 't-1', commandId: 'c-1', instanceId: id, status: n === 4 ? 'Failed' : 'Success', exitCode: n === 4 ? 2 : 0, errorCode: n === 4 ? 'ExitCodeNonzero' : '', errorInfo: '', startTime: '2026-11-23T10:00:01Z', finishTime: `2026-11-23T10:00:${String(2 + n).padStart(2, '0')}Z`, output: n === 4 ? 'ERROR: / is 98% full\n' : 'ok\n', outputBytes: 3, source: 'event' }));
    const file = path.join(dir, 'report.html');
    await writeFile(file, renderHtml(b.build()));

    const dom = (await chromium(['--dump-dom', `file://${file}`])).stdout;
    expect(dom).toMatch(/<svg id="status-chart"[^>]*>.*<rect/s);
    const shot = path.join(dir, 'report.png');
    await chromium(['--window-size=1280,1000', `--screenshot=${shot}`, `file://${file}`]);
    const png = PNG.sync.read(await readFile(shot));
    // The chart's green Success bar and red Failed bar, and the failing row's pale red background.
    expect(countColour(png, [0x1f, 0x9d, 0x55])).toBeGreaterThan(500);
    expect(countColour(png, [0xd6, 0x45, 0x45])).toBeGreaterThan(200);
    expect(countColour(png, [0xff, 0xf5, 0xf5])).toBeGreaterThan(2000);
  }, 120_000);
});
