/**
 * One instance of a function: a worker process (worker.ts) that loads the function's module and
 * answers invocations over IPC. It enforces the function's timeout (FC stops an instance that ran
 * over it) and reports its own end, so its pool (function-instance.ts) replaces it as FC replaces
 * an instance. An invocation in flight when the process dies fails with `FunctionCrashed`, the way
 * FC reports an unhandled invocation error.
 *
 * The process runs as FC runs an instance: it may read anything (the code is read-only to it, as
 * FC's /code is a read-only file system) and write only its own temporary folder, its TMPDIR (FC:
 * /tmp). Its working directory is an empty folder of its own, deliberately not the code folder, so
 * no code comes to depend on the working directory (it finds its files through
 * FC_FUNC_CODE_PATH). Node's permission model
 * enforces it (`--experimental-permission`, Node 20). A bundle's instance runs the worker shim as
 * plain JavaScript and may neither start threads nor processes; a source module's is TypeScript
 * loaded through tsx, whose loader runs on a worker thread and spawns esbuild: those two
 * permissions are granted there (`--allow-worker`, `--allow-child-process`), so in source mode a
 * function could spawn a process outside the model.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { transformSync } from 'esbuild';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
// The worker is TypeScript run through tsx; resolved here so it works from any working directory.
const TSX = import.meta.resolve('tsx');
// tsx keeps its transform cache in <os.tmpdir()>/tsx-<euid> (its temporary-directory module). Every
// instance shares the host's, so a new instance does not transpile the function's source again: the
// process starts with the host's TMPDIR (tsx reads it as it loads) and the worker then switches
// TMPDIR to the instance's own folder before the function loads. That one folder is writable too.
const LOADER_TMPDIR = tmpdir();
const TSX_CACHE = path.join(LOADER_TMPDIR, `tsx-${process.geteuid ? process.geteuid() : userInfo().username}`);

/**
 * The worker shim as JavaScript, for instances that load a bundle: transpiled once into the host's
 * instances folder (type-only syntax removed; nothing else changes), so those instances start
 * without tsx.
 */
function plainWorker(instancesRoot: string): string {
  const file = path.join(instancesRoot, 'worker.mjs');
  if (!existsSync(file)) writeFileSync(file, transformSync(readFileSync(WORKER, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20' }).code);
  return file;
}

export class InvocationError extends Error {
  override readonly name = 'InvocationError';
  constructor(
    /** FunctionError (the handler threw), FunctionTimeout, FunctionCrashed or InitializationError. */
    readonly kind: 'FunctionError' | 'FunctionTimeout' | 'FunctionCrashed' | 'InitializationError',
    message: string,
    readonly errorName?: string,
  ) {
    super(message);
  }
}

/** Invocations, cold starts, crashes and timeouts, counted over all of a function's instances. */
export interface InstanceStats {
  invocations: number;
  coldStarts: number;
  crashes: number;
  timeouts: number;
}

export interface InstanceProcessOptions {
  functionName: string;
  modulePath: string;
  exportName: string;
  env: Record<string, string>;
  timeoutSeconds: number;
  /** What the FC context carries besides requestId. */
  context: { credentials: Record<string, string>; region: string; accountId: string; memory: number; handler: string };
  /** Folder under which the instance gets its working directory and its temporary folder. */
  instancesRoot: string;
  /** Paths the instance may write besides its temporary folder (test harnesses' sink files). */
  allowWrite: string[];
  stats: InstanceStats;
  log: (line: string) => void;
}

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (e: InvocationError) => void;
  timer: NodeJS.Timeout;
}

export class InstanceProcess {
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;
  private nextId = 1;
  private readonly inFlight = new Map<number, Waiting>();
  private readonly home: string;
  /** Invocations sent and not yet answered. */
  running = 0;
  /** CPU time (µs) the process reported with its latest answer. */
  cpuUs = 0;
  /** Whether the process has ended (crash, kill, timeout, close); a dead instance takes no work. */
  dead = false;
  readonly exited: Promise<void>;

  constructor(private readonly o: InstanceProcessOptions) {
    o.stats.coldStarts++;
    mkdirSync(o.instancesRoot, { recursive: true });
    this.home = mkdtempSync(path.join(o.instancesRoot, 'instance-'));
    const cwd = path.join(this.home, 'cwd');
    const tmp = path.join(this.home, 'tmp');
    mkdirSync(cwd);
    mkdirSync(tmp);
    const bundle = o.modulePath.endsWith('.js');
    const sandbox = ['--experimental-permission', '--allow-fs-read=*', '--disable-warning=ExperimentalWarning', '--disable-warning=SecurityWarning'];
    this.child = fork(bundle ? plainWorker(o.instancesRoot) : WORKER, [], {
      cwd,
      // A bundle is plain JavaScript, as FC runs it: no TypeScript loader in the instance (its CPU
      // is not the function's), and no worker threads or child processes (the loader's needs).
      execArgv: bundle
        ? [...sandbox, ...[tmp, ...o.allowWrite].map((p) => `--allow-fs-write=${p}`)]
        : [...sandbox, ...[tmp, TSX_CACHE, ...o.allowWrite].map((p) => `--allow-fs-write=${p}`), '--allow-worker', '--allow-child-process', '--import', TSX],
      env: { ...o.env, TMPDIR: LOADER_TMPDIR, FLEETRUN_FC_TMPDIR: tmp, FLEETRUN_FC_MODULE: o.modulePath, FLEETRUN_FC_EXPORT: o.exportName },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const child = this.child;
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => o.log(`[fc:${o.functionName}] ${line}`));
    let onExit!: () => void;
    this.exited = new Promise<void>((r) => (onExit = r));
    this.ready = new Promise<void>((resolve, reject) => {
      child.on('message', (msg: { type: string; id?: number; ok?: boolean; result?: unknown; error?: { name: string; message: string }; cpuUs?: number }) => {
        if (msg.type === 'ready') return resolve();
        if (typeof msg.cpuUs === 'number') this.cpuUs = msg.cpuUs;
        if (msg.type === 'init-error') return reject(new InvocationError('InitializationError', `${o.functionName} failed to load: ${msg.error?.message}`, msg.error?.name));
        const waiting = msg.id === undefined ? undefined : this.inFlight.get(msg.id);
        if (!waiting) return;
        this.inFlight.delete(msg.id!);
        clearTimeout(waiting.timer);
        if (msg.ok) waiting.resolve(msg.result);
        else waiting.reject(new InvocationError('FunctionError', msg.error?.message ?? 'the handler failed', msg.error?.name));
      });
      child.once('exit', (code, signal) => {
        this.dead = true;
        reject(new InvocationError('InitializationError', `${o.functionName} exited while loading (${signal ?? code})`));
        if (this.inFlight.size > 0) o.stats.crashes++;
        for (const [id, w] of this.inFlight) {
          clearTimeout(w.timer);
          w.reject(new InvocationError('FunctionCrashed', `${o.functionName}'s process exited (${signal ?? `code ${code}`}) during the invocation`));
          this.inFlight.delete(id);
        }
        // FC discards an instance's /tmp with the instance.
        rmSync(this.home, { recursive: true, force: true });
        onExit();
      });
    });
    // A worker that failed to load is replaced on the next invocation.
    this.ready.catch(() => {});
  }

  get pid(): number | undefined {
    return this.dead ? undefined : this.child.pid;
  }

  async invoke(event: Buffer, requestId: string): Promise<unknown> {
    await this.ready;
    const child = this.child;
    const id = this.nextId++;
    const o = this.o;
    o.stats.invocations++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        o.stats.timeouts++;
        this.inFlight.delete(id);
        reject(new InvocationError('FunctionTimeout', `${o.functionName} timed out after ${o.timeoutSeconds} s`));
        // FC stops the instance that ran over its timeout; so does the host.
        this.kill();
      }, o.timeoutSeconds * 1000);
      this.inFlight.set(id, { resolve, reject, timer });
      child.send({
        id,
        event: event.toString('base64'),
        context: {
          requestId,
          credentials: o.context.credentials,
          function: { name: o.functionName, handler: o.context.handler, memory: o.context.memory, timeout: o.timeoutSeconds },
          service: { name: '', logProject: '', logStore: '', qualifier: 'LATEST', versionId: '' },
          region: o.context.region,
          accountId: o.context.accountId,
        },
      });
    });
  }

  /** SIGKILL, as a crash would. */
  kill(): void {
    this.dead = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    this.kill();
    await this.exited;
  }
}
