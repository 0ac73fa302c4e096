/**
 * What a newcomer does: `npm start`, read the demo run's final reply (its failure by name, its
 * distinct outputs), paste the printed curl, and find the run's report; then paste the printed
 * retry of the demo run and see it run on exactly the failed instance, in the same thread —
 * started as a child process exactly as the README says, the curls run by a shell.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let child: ChildProcess | undefined;

/** npm, tsx and the local cloud form a process group: Ctrl-C goes to all of them, as in a terminal. */
function interrupt(): void {
  if (child?.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGINT');
    } catch {
      // already gone
    }
  }
}

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child!.once('exit', r));
    interrupt();
    await gone;
  }
}, 30_000);

async function waitForOutput(get: () => string, pattern: RegExp, ms: number): Promise<RegExpExecArray> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const m = pattern.exec(get());
    if (m) return m;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${pattern} in:\n${get()}`);
}

describe('npm start', () => {
  it("shows the demo run's groups, prints a signed curl that starts a run whose report appears in the thread and opens, and a retry that runs on exactly the failed instance", async () => {
    let out = '';
    // Vitest's own variables stay out: the child is a user's shell starting the project.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS' && k !== 'NODE_ENV'));
    child = spawn('npm', ['start'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, FORCE_COLOR: '0' } });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const curl = (await waitForOutput(() => out, /^curl .*$/m, 60_000))[0];
    // The demo's own run, of its failing command: the final reply names the failure and shows the
    // distinct outputs — the healthy three as one answer, their names masked by the catalog's rule.
    const [, demoRunId, demoLines] = await waitForOutput(() => out, /chat ◂ web-healthcheck (r-[a-z0-9-]+): PartialFailed — 3 succeeded, 1 failed, 0 stopped, 2 not run\n((?: {9}.*\n)+)/, 60_000);
    const demo = demoLines!;
    expect(demo.split('\n').map((l) => l.trim())).toEqual([
      'db-1 (i-bp1demo000000000003) Failed (ExitCodeNonzero): `db-1 is a database instance: no web server here`',
      'legacy-1 (i-bp1demo000000000005) Aborted (InstanceNotRunning)',
      'edge-1 (i-bp1demo000000000006) Aborted (ClientNotRunning)',
      '4 distinct outputs: 1 × `<\u200bname> is a database instance: no web server here` (Failed, exit 3), 1 × no output (Aborted, ClientNotRunning), 1 × no output (Aborted, InstanceNotRunning), 3 × `<\u200bname>: web ok`',
      'Targets: the instances tagged env=demo',
      expect.stringMatching(/^Report: http:\/\/127\.0\.0\.1:\d+\/reports\/r-/),
      '',
    ]);
    const { stdout } = await run('bash', ['-c', curl]);
    const runId = /Run (r-[a-z0-9-]+) started: disk-check/.exec(stdout)?.[1];
    expect(runId, stdout).toBeDefined();
    // This run's report line: the demo run npm start began with is also a disk-check, with a report of its own.
    const report = (await waitForOutput(() => out, new RegExp(`Report: (\\S*/reports/${runId}\\b\\S*)`), 60_000))[1]!;
    // fleetrun's own link to chatops' HTTP trigger, as on the cloud, not a presigned OSS URL.
    expect(report).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/reports/${runId}\\?expires=\\d+&sig=[\\w-]+$`));
    const res = await fetch(report);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain(runId);
    expect(html).toContain('id="status-chart"');

    // The printed retry of the demo run, pasted: a new run on exactly its failed instance (db-1),
    // not the two set aside, its replies in the same printed thread.
    const retryCurl = (await waitForOutput(() => out, new RegExp(`^curl .*retry ${demoRunId}.*$`, 'm'), 10_000))[0];
    const retried = (await run('bash', ['-c', retryCurl])).stdout;
    const answer = JSON.parse(retried) as { ok?: boolean; message?: string };
    expect(answer.ok, retried).toBe(true);
    const retryId = new RegExp(`^Run (r-[a-z0-9-]+) started: web-healthcheck on i-bp1demo000000000003 \\(the failed instance of ${demoRunId}\\)\\. Progress will follow here\\.$`).exec(answer.message ?? '')?.[1];
    expect(retryId, retried).toBeDefined();
    const retryLines = (await waitForOutput(() => out, new RegExp(`chat ◂ web-healthcheck ${retryId}: Failed — 0 succeeded, 1 failed, 0 stopped, 0 not run\\n((?: {9}.*\\n)+)`), 60_000))[1]!;
    expect(retryLines.split('\n').map((l) => l.trim())[0]).toBe('db-1 (i-bp1demo000000000003) Failed (ExitCodeNonzero): `db-1 is a database instance: no web server here`');

    const exited = new Promise<unknown>((r) => child!.once('exit', r));
    interrupt();
    await exited;
  }, 180_000);
});
