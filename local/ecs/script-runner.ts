/**
 * Runs one Cloud Assistant script as a real shell process, the way the Linux agent does
 * (reference §2.5): the script is saved to a file and started with `sh <file>` in its own process
 * group; stdout and stderr go into one buffer of which only the tail is kept; a timeout or
 * StopInvocation kills either the script process alone (`Process`) or its whole group
 * (`ProcessTree`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';

/** Bytes of merged output kept per run; the API's `Dropped` counts what exceeds 24 KB. */
export const OUTPUT_TAIL_BYTES = 24 * 1024;

/** One script execution request. */
export interface ScriptRun {
  /** The final script text (parameters already substituted). */
  script: string;
  /** Absolute path the script is written to (parent dirs are created; mode 0o755). */
  scriptPath: string;
  /** Working directory; must exist (the caller validates it). */
  cwd: string;
  /** The complete environment of the script; `process.env` is NOT inherited. */
  env: Record<string, string>;
  /** Seconds before the script is killed with outcome `timeout`; fractions allowed. */
  timeoutSeconds: number;
  /** What a timeout or stop kills: the script process only, or its whole process group. */
  terminationMode: 'Process' | 'ProcessTree';
  /** Size of the kept output tail; default {@link OUTPUT_TAIL_BYTES}. */
  outputLimitBytes?: number;
  /**
   * argv used instead of `['sh']`. The script path is appended, unless the launcher already names
   * it as one of its arguments (a Launcher such as `python3 -u {{ACS::ScriptFileName}} --flag`,
   * whose words after the script are the script's own arguments).
   */
  launcher?: string[];
  /** Where to write the whole merged output too (for OssOutputDelivery, which is not cut at 24 KB). */
  fullOutputPath?: string;
}

/** How a run ended. */
export type ScriptOutcome = 'exited' | 'timeout' | 'stopped' | 'spawn-error';

/** What a run produced. */
export interface ScriptResult {
  outcome: ScriptOutcome;
  /** The process exit code; null if it was killed by a signal or never spawned. */
  exitCode: number | null;
  /** Tail of the merged stdout+stderr, UTF-8, never starting with a partial character. */
  output: string;
  /** Bytes discarded from the head of the output (including a partial character at the cut). */
  dropped: number;
  startTime: Date;
  /** When the script process ended (or the spawn failed). */
  finishTime: Date;
  /** Why the script could not be started (outcome `spawn-error` only). */
  error?: string;
}

/** Control over one running script. */
export interface ScriptHandle {
  /** Pid of the script process, which is also its process-group id; undefined if spawning failed. */
  readonly pid: number | undefined;
  /** Settles once the script process has exited and its output is collected; never rejects. */
  readonly result: Promise<ScriptResult>;
  /**
   * StopInvocation: kills per the run's termination mode; outcome `stopped`. A no-op once the
   * script process has exited; after a timeout kill the outcome stays `timeout`.
   */
  stop(): void;
}

/**
 * A backgrounded grandchild inherits the output pipes, so waiting for them to close could take
 * forever; after the script process exits we give late output this long to arrive.
 */
const DRAIN_MS = 150;
/** Bound on waiting for a killed group to disappear (a process in D state can delay SIGKILL). */
const GROUP_GONE_MAX_MS = 2_000;
const GROUP_POLL_MS = 20;
/** Groups left behind after their leader exited are re-checked this often so dead ones are forgotten. */
const PRUNE_INTERVAL_MS = 5_000;
/** setTimeout overflows above this and would fire immediately. */
const MAX_TIMER_MS = 2_147_483_647;

interface Tracked {
  readonly pgid: number;
  leaderRunning: boolean;
  /** Kills the whole group as shutdown does; resolves when the run's result has settled. */
  shutdown(): Promise<void>;
}

/**
 * Every process group started here whose members may still be alive: running scripts plus groups
 * whose leader exited but left children behind (Process-mode kills, `cmd &` in a script).
 */
const tracked = new Set<Tracked>();
let pruneTimer: NodeJS.Timeout | undefined;

/**
 * Starts a script. Never throws: failures to write or spawn the script resolve `result` with
 * outcome `spawn-error`.
 */
export function runScript(run: ScriptRun): ScriptHandle {
  const limit = Math.max(0, Math.floor(run.outputLimitBytes ?? OUTPUT_TAIL_BYTES)) || 0;
  const tail = new TailBuffer(limit);
  const startTime = new Date();

  let resolveResult!: (r: ScriptResult) => void;
  const result = new Promise<ScriptResult>((resolve) => {
    resolveResult = resolve;
  });

  const spawnError = (err: unknown): ScriptHandle => {
    resolveResult({
      outcome: 'spawn-error',
      exitCode: null,
      output: '',
      dropped: 0,
      startTime,
      finishTime: new Date(),
      error: err instanceof Error ? err.message : String(err),
    });
    return { pid: undefined, result, stop: () => {} };
  };

  const [command, ...launcherArgs] = run.launcher ?? ['sh'];
  if (command === undefined || command === '') return spawnError('launcher is empty');

  let child: ChildProcess;
  try {
    // Synchronous so that `pid` is known when runScript returns; scripts are at most a few KB.
    mkdirSync(dirname(run.scriptPath), { recursive: true });
    writeFileSync(run.scriptPath, run.script, { mode: 0o755 });
    // The mode above is only applied on creation and is filtered by the umask.
    chmodSync(run.scriptPath, 0o755);
    const args = launcherArgs.includes(run.scriptPath) ? launcherArgs : [...launcherArgs, run.scriptPath];
    child = spawn(command, args, {
      cwd: run.cwd,
      env: run.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    return spawnError(err);
  }

  const pid = child.pid;
  const streams = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
  let full: WriteStream | undefined;
  if (run.fullOutputPath) {
    mkdirSync(dirname(run.fullOutputPath), { recursive: true });
    full = createWriteStream(run.fullOutputPath);
    // A full disk loses the delivered copy, never the run or its tail.
    full.on('error', () => {});
  }
  for (const s of streams) {
    s.on('data', (chunk: Buffer) => {
      tail.push(chunk);
      full?.write(chunk);
    });
    // Errors after destroy() (or EPIPE-like oddities) must not become uncaught exceptions.
    s.on('error', () => {});
  }

  let killReason: 'timeout' | 'stopped' | undefined;
  let groupKilled = false;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let finishTime: Date | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  let finalizing = false;

  const entry: Tracked | undefined =
    pid === undefined
      ? undefined
      : {
          pgid: pid,
          leaderRunning: true,
          shutdown: async () => {
            kill('stopped', true);
            await result;
          },
        };
  if (entry) tracked.add(entry);

  function kill(reason: 'timeout' | 'stopped', wholeGroup: boolean): void {
    if (pid === undefined || !entry?.leaderRunning) return;
    // The first kill decides the outcome; shutdown may still widen a Process kill to the group.
    killReason ??= reason;
    if (wholeGroup) {
      groupKilled = true;
      signal(-pid, 'SIGKILL');
    } else {
      signal(pid, 'SIGKILL');
    }
  }

  const timer = setTimeout(
    () => kill('timeout', run.terminationMode === 'ProcessTree'),
    timeoutMs(run.timeoutSeconds),
  );

  const finalize = async (): Promise<void> => {
    if (finalizing) return;
    finalizing = true;
    clearTimeout(timer);
    clearTimeout(drainTimer);
    for (const s of streams) s.destroy();

    if (groupKilled && pid !== undefined) await waitForGroupGone(pid);

    if (full) await new Promise<void>((resolve) => full!.end(() => resolve()));
    const { output, dropped } = tail.result();
    const code = exit?.code ?? null;
    const sig = exit?.signal ?? null;
    // A kill that lost the race against a normal exit does not turn a finished run into a timeout.
    const outcome: ScriptOutcome = killReason !== undefined && sig !== null ? killReason : 'exited';

    if (entry) {
      entry.leaderRunning = false;
      if (await groupHasLiveMembers(entry.pgid)) schedulePrune();
      else tracked.delete(entry);
    }

    resolveResult({
      outcome,
      exitCode: sig !== null ? null : code,
      output,
      dropped,
      startTime,
      finishTime: finishTime ?? new Date(),
    });
  };

  child.on('error', (err) => {
    if (child.pid === undefined) {
      clearTimeout(timer);
      if (entry) tracked.delete(entry);
      finalizing = true;
      spawnError(err);
    }
    // Errors after a successful spawn only come from child.kill(), which is not used here.
  });

  child.on('exit', (code, sig) => {
    // Some Node versions also report 'exit' for a failed spawn; 'error' handles that case.
    if (pid === undefined) return;
    exit = { code, signal: sig };
    finishTime = new Date();
    if (entry) entry.leaderRunning = false;
    clearTimeout(timer);
    drainTimer = setTimeout(() => void finalize(), DRAIN_MS);
  });

  // 'close' = exited and every pipe closed, i.e. nothing else holds the output open.
  child.on('close', () => {
    if (exit !== undefined) void finalize();
  });

  return {
    get pid() {
      return pid;
    },
    result,
    stop() {
      kill('stopped', run.terminationMode === 'ProcessTree');
    },
  };
}

/**
 * Kills every process group started by {@link runScript} that may still be alive, whatever its
 * termination mode, including children left behind by Process-mode kills, and waits for them to
 * be gone. Running scripts end with outcome `stopped` (unless a timeout or stop already began).
 */
export async function killAllRunning(): Promise<void> {
  await Promise.all(
    [...tracked].map(async (t) => {
      if (t.leaderRunning) {
        await t.shutdown();
      } else {
        signal(-t.pgid, 'SIGKILL');
        await waitForGroupGone(t.pgid);
      }
      tracked.delete(t);
    }),
  );
  if (tracked.size === 0) stopPrune();
}

function timeoutMs(seconds: number): number {
  if (!Number.isFinite(seconds)) return MAX_TIMER_MS;
  return Math.min(Math.max(0, seconds * 1000), MAX_TIMER_MS);
}

/** process.kill that ignores a target which is already gone. */
function signal(target: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(target, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a non-zombie process is still in the group. Zombies must not count: orphans are reaped
 * by PID 1, which in some containers takes seconds, and a zombie can no longer do anything.
 */
async function groupHasLiveMembers(pgid: number): Promise<boolean> {
  // Cheap exit for the common case; kill(-pgid, 0) also sees zombies, hence the /proc scan after.
  if (!signal(-pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return true;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name is in parentheses and may itself contain spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (Number(fields[2]) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

async function waitForGroupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + GROUP_GONE_MAX_MS;
  while (await groupHasLiveMembers(pgid)) {
    if (Date.now() >= deadline) return;
    // Re-signal in case a member forked while the first SIGKILL was being delivered.
    signal(-pgid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, GROUP_POLL_MS));
  }
}

/**
 * Forgets left-behind groups once they are empty, so that a later killAllRunning cannot hit an
 * unrelated group that reused the pgid.
 */
function schedulePrune(): void {
  if (pruneTimer) return;
  pruneTimer = setInterval(() => {
    void (async () => {
      for (const t of [...tracked]) {
        if (!t.leaderRunning && !(await groupHasLiveMembers(t.pgid))) tracked.delete(t);
      }
      if (![...tracked].some((t) => !t.leaderRunning)) stopPrune();
    })();
  }, PRUNE_INTERVAL_MS);
  // Must not keep the emulator alive on its own.
  pruneTimer.unref();
}

function stopPrune(): void {
  if (pruneTimer) clearInterval(pruneTimer);
  pruneTimer = undefined;
}

/** Fixed-size ring of the last `capacity` bytes, so memory stays bounded however much is written. */
class TailBuffer {
  private readonly buf: Buffer;
  private start = 0;
  private length = 0;
  private total = 0;

  constructor(private readonly capacity: number) {
    this.buf = Buffer.alloc(capacity);
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const cap = this.capacity;
    if (cap === 0 || chunk.length === 0) return;
    if (chunk.length >= cap) {
      chunk.copy(this.buf, 0, chunk.length - cap);
      this.start = 0;
      this.length = cap;
      return;
    }
    const writePos = (this.start + this.length) % cap;
    const first = Math.min(chunk.length, cap - writePos);
    chunk.copy(this.buf, writePos, 0, first);
    if (first < chunk.length) chunk.copy(this.buf, 0, first);
    const newLength = this.length + chunk.length;
    if (newLength > cap) {
      this.start = (this.start + newLength - cap) % cap;
      this.length = cap;
    } else {
      this.length = newLength;
    }
  }

  result(): { output: string; dropped: number } {
    const end = this.start + this.length;
    let kept =
      end <= this.capacity
        ? this.buf.subarray(this.start, end)
        : Buffer.concat([this.buf.subarray(this.start), this.buf.subarray(0, end - this.capacity)]);
    let dropped = this.total - kept.length;
    if (dropped > 0) {
      // The cut may land inside a multi-byte character; its continuation bytes (10xxxxxx, at
      // most 3 in valid UTF-8) would decode to U+FFFD, so they are dropped as well.
      let skip = 0;
      while (skip < 3 && skip < kept.length && ((kept[skip] ?? 0) & 0xc0) === 0x80) skip++;
      kept = kept.subarray(skip);
      dropped += skip;
    }
    return { output: kept.toString('utf8'), dropped };
  }
}
