/**
 * The host's side of one function: spawns its worker process (worker.ts), sends invocations,
 * enforces the function's timeout, and starts a fresh worker after a crash, a kill or a timeout —
 * as FC replaces an instance. An invocation in flight when the process dies fails with
 * `FunctionCrashed`, the way FC reports an unhandled invocation error.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
// The worker is TypeScript run through tsx; resolved here so it works from any working directory.
const TSX = import.meta.resolve('tsx');

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

export interface FunctionInstanceOptions {
  functionName: string;
  modulePath: string;
  exportName: string;
  env: Record<string, string>;
  timeoutSeconds: number;
  /** Invocations one instance runs at once. */
  concurrency: number;
  /** What the FC context carries besides requestId. */
  context: { credentials: Record<string, string>; region: string; accountId: string; memory: number; handler: string };
  log: (line: string) => void;
}

interface Waiting {
  resolve: (v: unknown) => void;
  reject: (e: InvocationError) => void;
  timer: NodeJS.Timeout;
}

export class FunctionInstance {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 1;
  private readonly inFlight = new Map<number, Waiting>();
  private readonly queue: (() => void)[] = [];
  private running = 0;
  private closed = false;
  /** Invocations, cold starts and crashes, for tests and benchmarks. */
  readonly stats = { invocations: 0, coldStarts: 0, crashes: 0, timeouts: 0 };

  constructor(readonly options: FunctionInstanceOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async invoke(event: Buffer, requestId: string = randomUUID()): Promise<unknown> {
    if (this.closed) throw new InvocationError('FunctionCrashed', `${this.options.functionName} is shut down`);
    if (this.running >= this.options.concurrency) await new Promise<void>((r) => this.queue.push(r));
    this.running++;
    try {
      return await this.send(event, requestId);
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }

  /** Kills the worker (SIGKILL), as a crash would; the next invocation gets a fresh one. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
  }

  private start(): Promise<void> {
    this.stats.coldStarts++;
    const o = this.options;
    const child = fork(WORKER, [], {
      execArgv: ['--import', TSX],
      env: { ...o.env, FLEETRUN_FC_MODULE: o.modulePath, FLEETRUN_FC_EXPORT: o.exportName },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => o.log(`[fc:${o.functionName}] ${line}`));
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (msg: { type: string; id?: number; ok?: boolean; result?: unknown; error?: { name: string; message: string } }) => {
        if (msg.type === 'ready') return resolve();
        if (msg.type === 'init-error') return reject(new InvocationError('InitializationError', `${o.functionName} failed to load: ${msg.error?.message}`, msg.error?.name));
        const waiting = msg.id === undefined ? undefined : this.inFlight.get(msg.id);
        if (!waiting) return;
        this.inFlight.delete(msg.id!);
        clearTimeout(waiting.timer);
        if (msg.ok) waiting.resolve(msg.result);
        else waiting.reject(new InvocationError('FunctionError', msg.error?.message ?? 'the handler failed', msg.error?.name));
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        reject(new InvocationError('InitializationError', `${o.functionName} exited while loading (${signal ?? code})`));
        if (this.inFlight.size > 0) this.stats.crashes++;
        for (const [id, w] of this.inFlight) {
          clearTimeout(w.timer);
          w.reject(new InvocationError('FunctionCrashed', `${o.functionName}'s process exited (${signal ?? `code ${code}`}) during the invocation`));
          this.inFlight.delete(id);
        }
      });
    });
    // A worker that failed to load is replaced on the next invocation.
    ready.catch(() => {});
    return ready;
  }

  private async send(event: Buffer, requestId: string): Promise<unknown> {
    this.ready ??= this.start();
    await this.ready;
    const child = this.child!;
    const id = this.nextId++;
    this.stats.invocations++;
    const o = this.options;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stats.timeouts++;
        this.inFlight.delete(id);
        reject(new InvocationError('FunctionTimeout', `${o.functionName} timed out after ${o.timeoutSeconds} s`));
        // FC stops the instance that ran over its timeout; so does the host.
        child.kill('SIGKILL');
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
}
