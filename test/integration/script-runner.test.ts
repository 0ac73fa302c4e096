import { describe, it, expect, afterAll, vi } from 'vitest';
import { mkdir, mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  OUTPUT_TAIL_BYTES,
  killAllRunning,
  runScript,
  type ScriptRun,
} from '../../local/ecs/script-runner.ts';

const tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), 'fleetrun-script-runner-')));
let seq = 0;

afterAll(async () => {
  // Also reaps sleeps that a failing test may have left behind.
  await killAllRunning();
  await rm(tmp, { recursive: true, force: true });
});

/** A run in its own folder with a minimal environment; `dir` is where scripts may drop files. */
function makeRun(script: string, over: Partial<ScriptRun> = {}): ScriptRun & { dir: string } {
  const dir = path.join(tmp, `run-${++seq}`);
  return {
    dir,
    script,
    scriptPath: path.join(dir, 'script', `cmd-${seq}.sh`),
    cwd: tmp,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeoutSeconds: 10,
    terminationMode: 'Process',
    ...over,
  };
}

/**
 * Alive = exists and is not a zombie. kill(pid, 0) alone is not enough: orphans are reaped by
 * PID 1, which in this sandbox takes up to ~2 s, and a reaped-late zombie is already dead.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Pids the script wrote, one per line; waits until `count` lines are complete. */
async function readPids(file: string, count: number): Promise<number[]> {
  await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').split('\n').length > count);
  const pids = (await readFile(file, 'utf8')).trim().split('\n').map(Number);
  expect(pids).toHaveLength(count);
  for (const p of pids) expect(p).toBeGreaterThan(1);
  return pids;
}

/**
 * Two long-lived children: a backgrounded one and the foreground one (an `sh` that records its
 * own pid and then becomes `sleep` via exec, so the pid stays the same).
 */
const twoSleepers = (pidFile: string): string =>
  `sleep 300 &\necho $! >> '${pidFile}'\nsh -c 'echo $$ >> "$0"; exec sleep 300' '${pidFile}'\n`;

describe('runScript', () => {
  it('writes the script (0755, parents created) and runs it with the given cwd and only the given env', async () => {
    process.env.FLEETRUN_TEST_LEAK = 'leaked';
    try {
      const cwd = path.join(tmp, 'wd');
      await mkdir(cwd);
      const run = makeRun('echo "pwd=$(pwd)"\necho "mine=$MINE"\necho "leak=${FLEETRUN_TEST_LEAK-unset}"\n', {
        cwd,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', MINE: 'yes' },
      });
      const h = runScript(run);
      expect(h.pid).toBeGreaterThan(0);
      const r = await h.result;
      expect(r.outcome).toBe('exited');
      expect(r.exitCode).toBe(0);
      expect(r.output).toBe(`pwd=${cwd}\nmine=yes\nleak=unset\n`);
      expect(r.dropped).toBe(0);
      expect(r.error).toBeUndefined();
      expect(r.finishTime.getTime()).toBeGreaterThanOrEqual(r.startTime.getTime());
      const st = await stat(run.scriptPath);
      expect(st.mode & 0o777).toBe(0o755);
      expect(await readFile(run.scriptPath, 'utf8')).toBe(run.script);
    } finally {
      delete process.env.FLEETRUN_TEST_LEAK;
    }
  });

  it('propagates the exit code', async () => {
    const r = await runScript(makeRun('echo before\nexit 3\necho after\n')).result;
    expect(r.outcome).toBe('exited');
    expect(r.exitCode).toBe(3);
    expect(r.output).toBe('before\n');
  });

  it('gives exitCode null when the script dies from a signal', async () => {
    const r = await runScript(makeRun('echo dying\nkill -9 $$\necho survived\n')).result;
    expect(r.outcome).toBe('exited');
    expect(r.exitCode).toBeNull();
    expect(r.output).toBe('dying\n');
  });

  it('merges stdout and stderr into one buffer in arrival order', async () => {
    const r = await runScript(
      makeRun("printf 'o1\\n'\nsleep 0.1\nprintf 'e1\\n' >&2\nsleep 0.1\nprintf 'o2\\n'\nsleep 0.1\nprintf 'e2\\n' >&2\n"),
    ).result;
    expect(r.output).toBe('o1\ne1\no2\ne2\n');
  });

  it('uses the launcher as argv prefix with the script path appended', async () => {
    const run = makeRun('false\necho not-reached\n', { launcher: ['sh', '-e'] });
    const r = await runScript(run).result;
    expect(r.exitCode).toBe(1);
    expect(r.output).toBe('');
    const echo = makeRun('unused\n', { launcher: ['sh', '-c', 'echo "launched $0"'] });
    expect((await runScript(echo).result).output).toBe(`launched ${echo.scriptPath}\n`);
  });

  it('keeps only the tail of 100 KB of output and counts the dropped head', async () => {
    // Numbered 8-byte lines make the kept window checkable exactly. All on stderr: stdout is
    // covered by the 100 MB case, and one stream keeps the byte order deterministic.
    const lines = 12_800;
    const script = `awk 'BEGIN { for (i = 0; i < ${lines}; i++) printf "%07d\\n", i }' >&2\n`;
    const r = await runScript(makeRun(script)).result;
    const expected = Array.from({ length: lines }, (_, i) => `${String(i).padStart(7, '0')}\n`).join('');
    expect(expected.length).toBe(102_400);
    expect(Buffer.byteLength(r.output)).toBe(OUTPUT_TAIL_BYTES);
    expect(r.dropped).toBe(expected.length - OUTPUT_TAIL_BYTES);
    expect(r.output).toBe(expected.slice(-OUTPUT_TAIL_BYTES));
  });

  it('counts every byte of 100 MB of output while keeping a bounded tail', async () => {
    const total = 100 * 1024 * 1024;
    const r = await runScript(makeRun(`head -c ${total} /dev/zero\nprintf 'THE-END'\n`)).result;
    expect(r.exitCode).toBe(0);
    expect(Buffer.byteLength(r.output)).toBe(OUTPUT_TAIL_BYTES);
    expect(r.dropped).toBe(total + 7 - OUTPUT_TAIL_BYTES);
    expect(r.output.endsWith('\0\0THE-END')).toBe(true);
  });

  it('does not split a multi-byte character at the cut and counts its bytes as dropped', async () => {
    // 'abc' + 4 × '€' (3 bytes each) = 15 bytes; a 10-byte tail starts on the last byte of the first '€'.
    const r = await runScript(makeRun("printf 'abc€€€€'\n", { outputLimitBytes: 10 })).result;
    expect(r.output).toBe('€€€');
    expect(r.dropped).toBe(6);
  });

  it('Process timeout kills only the script process and resolves although a grandchild holds the pipe', async () => {
    const run = makeRun('');
    const pidFile = path.join(tmp, `pids-${seq}`);
    run.script = twoSleepers(pidFile);
    run.timeoutSeconds = 0.5;
    const h = runScript(run);
    const leader = h.pid!;
    const started = Date.now();
    const r = await h.result;
    const elapsed = Date.now() - started;
    expect(r.outcome).toBe('timeout');
    expect(r.exitCode).toBeNull();
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(2_500);
    const children = await readPids(pidFile, 2);
    expect(isAlive(leader)).toBe(false);
    for (const p of children) expect(isAlive(p)).toBe(true);
    for (const p of children) process.kill(p, 'SIGKILL');
  });

  it('ProcessTree timeout kills the whole process group', async () => {
    const run = makeRun('');
    const pidFile = path.join(tmp, `pids-${seq}`);
    run.script = twoSleepers(pidFile);
    run.timeoutSeconds = 0.5;
    run.terminationMode = 'ProcessTree';
    const h = runScript(run);
    const leader = h.pid!;
    const r = await h.result;
    expect(r.outcome).toBe('timeout');
    expect(r.exitCode).toBeNull();
    const children = await readPids(pidFile, 2);
    for (const p of [leader, ...children]) expect(isAlive(p)).toBe(false);
  });

  it('stop() kills per termination mode with outcome stopped', async () => {
    for (const mode of ['Process', 'ProcessTree'] as const) {
      const run = makeRun('', { terminationMode: mode });
      const pidFile = path.join(tmp, `pids-${seq}`);
      run.script = `echo partial\n${twoSleepers(pidFile)}`;
      const h = runScript(run);
      const children = await readPids(pidFile, 2);
      const stoppedAt = Date.now();
      h.stop();
      const r = await h.result;
      expect(Date.now() - stoppedAt).toBeLessThan(2_000);
      expect(r.outcome).toBe('stopped');
      expect(r.exitCode).toBeNull();
      expect(r.output).toBe('partial\n');
      expect(isAlive(h.pid!)).toBe(false);
      for (const p of children) expect(isAlive(p)).toBe(mode === 'Process');
      if (mode === 'Process') for (const p of children) process.kill(p, 'SIGKILL');
    }
  });

  it('stop() after exit is a no-op', async () => {
    const h = runScript(makeRun('exit 0\n', { terminationMode: 'ProcessTree' }));
    const r = await h.result;
    const kill = vi.spyOn(process, 'kill');
    try {
      h.stop();
      h.stop();
      // Probes with signal 0 are harmless; any real signal would hit a pid that may be reused.
      expect(kill.mock.calls.filter(([, sig]) => sig !== 0)).toEqual([]);
    } finally {
      kill.mockRestore();
    }
    expect(await h.result).toBe(r);
    expect(r.outcome).toBe('exited');
  });

  it('reports a missing launcher as spawn-error without throwing', async () => {
    const h = runScript(makeRun('echo hi\n', { launcher: [path.join(tmp, 'no-such-binary')] }));
    expect(h.pid).toBeUndefined();
    h.stop();
    const r = await h.result;
    expect(r.outcome).toBe('spawn-error');
    expect(r.exitCode).toBeNull();
    expect(r.output).toBe('');
    expect(r.error).toMatch(/ENOENT/);
  });

  it('reports an unwritable script path as spawn-error without throwing', async () => {
    const r = await runScript(makeRun('echo hi\n', { scriptPath: '/dev/null/x/cmd.sh' })).result;
    expect(r.outcome).toBe('spawn-error');
    expect(r.error).toBeTruthy();
  });
});

describe('killAllRunning', () => {
  it('kills running groups and groups left behind by a Process kill, and waits for them', async () => {
    // Left behind: Process-mode timeout leaves both sleepers alive in the group.
    const leftRun = makeRun('', { timeoutSeconds: 0.3 });
    const leftPids = path.join(tmp, `pids-${seq}`);
    leftRun.script = twoSleepers(leftPids);
    const left = await runScript(leftRun).result;
    expect(left.outcome).toBe('timeout');
    const leftChildren = await readPids(leftPids, 2);
    for (const p of leftChildren) expect(isAlive(p)).toBe(true);

    const running = (['Process', 'ProcessTree'] as const).map((mode) => {
      const run = makeRun('', { terminationMode: mode });
      const pidFile = path.join(tmp, `pids-${seq}`);
      run.script = twoSleepers(pidFile);
      return { handle: runScript(run), pidFile };
    });
    const runningChildren = (await Promise.all(running.map((x) => readPids(x.pidFile, 2)))).flat();

    await killAllRunning();

    for (const { handle } of running) {
      const r = await handle.result;
      expect(r.outcome).toBe('stopped');
      expect(isAlive(handle.pid!)).toBe(false);
    }
    for (const p of [...leftChildren, ...runningChildren]) expect(isAlive(p)).toBe(false);
  });

  it('resolves immediately when nothing runs', async () => {
    await killAllRunning();
    const started = Date.now();
    await killAllRunning();
    expect(Date.now() - started).toBeLessThan(500);
  });
});
