/**
 * The host's side of one function: its instances (instance-process.ts), scaled as FC scales a
 * function. An instance of a built-in runtime serves one invocation at a time (FC 3.0: "Standard
 * runtimes of Function Compute no longer support the instance concurrency feature"), so an
 * invocation that finds every instance busy starts another one — its own process — instead of
 * queueing behind a long one; an idle instance is reused (a warm start). Past `maxInstances` an
 * invocation waits for a free instance. Crashed, killed and timed-out instances are replaced by
 * the next invocation that needs one.
 */
import { randomUUID } from 'node:crypto';
import { InstanceProcess, InvocationError, type InstanceStats } from './instance-process.ts';

export { InvocationError } from './instance-process.ts';

export interface FunctionInstanceOptions {
  functionName: string;
  modulePath: string;
  exportName: string;
  env: Record<string, string>;
  timeoutSeconds: number;
  /** Invocations one instance runs at once: 1 on built-in runtimes; a custom runtime's instanceConcurrency. */
  concurrency: number;
  /** Instances the function may have at once (the host's `maxInstancesPerFunction`). */
  maxInstances: number;
  /** What the FC context carries besides requestId. */
  context: { credentials: Record<string, string>; region: string; accountId: string; memory: number; handler: string };
  /** Folder under which each instance gets its working directory and temporary folder. */
  instancesRoot: string;
  /** Paths an instance may write besides its temporary folder. */
  allowWrite?: string[];
  log: (line: string) => void;
}

export class FunctionInstance {
  private readonly instances: InstanceProcess[] = [];
  private readonly waiting: (() => void)[] = [];
  private closed = false;
  /** CPU time of instances that left the pool. */
  private retiredCpuUs = 0;
  /** Summed over every instance the function has had: for tests and benchmarks. */
  readonly stats: InstanceStats = { invocations: 0, coldStarts: 0, crashes: 0, timeouts: 0 };

  constructor(readonly options: FunctionInstanceOptions) {}

  /** The process id of the function's first live instance (tests kill it from outside). */
  get pid(): number | undefined {
    return this.instances.find((i) => !i.dead)?.pid;
  }

  /** Every live instance's process id. */
  get pids(): number[] {
    return this.instances.flatMap((i) => (i.dead || i.pid === undefined ? [] : [i.pid]));
  }

  /** CPU time (µs) of all the function's instances, gone ones included, as of each one's latest answer. */
  get cpuUs(): number {
    return this.retiredCpuUs + this.instances.reduce((sum, i) => sum + i.cpuUs, 0);
  }

  /** Live instances: how far the function has scaled out. */
  get instanceCount(): number {
    return this.instances.filter((i) => !i.dead).length;
  }

  async invoke(event: Buffer, requestId: string = randomUUID()): Promise<unknown> {
    if (this.closed) throw new InvocationError('FunctionCrashed', `${this.options.functionName} is shut down`);
    // acquire() counts the invocation on the instance before it returns, so a concurrent call sees it busy.
    const instance = await this.acquire();
    try {
      return await instance.invoke(event, requestId);
    } finally {
      instance.running--;
      this.waiting.shift()?.();
    }
  }

  /** Kills every instance's process (SIGKILL), as a crash would; the next invocation starts a fresh one. */
  kill(): void {
    for (const i of this.instances) i.kill();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.all(this.instances.map((i) => i.close()));
  }

  /** An idle live instance (warm), else a new one while under maxInstances, else the first to free up. */
  private async acquire(): Promise<InstanceProcess> {
    for (;;) {
      if (this.closed) throw new InvocationError('FunctionCrashed', `${this.options.functionName} is shut down`);
      this.prune();
      const warm = this.instances.find((i) => !i.dead && i.running < this.options.concurrency);
      if (warm) {
        warm.running++;
        return warm;
      }
      if (this.instances.length < this.options.maxInstances) {
        const o = this.options;
        const fresh = new InstanceProcess({
          functionName: o.functionName,
          modulePath: o.modulePath,
          exportName: o.exportName,
          env: o.env,
          timeoutSeconds: o.timeoutSeconds,
          context: o.context,
          instancesRoot: o.instancesRoot,
          allowWrite: o.allowWrite ?? [],
          stats: this.stats,
          log: o.log,
        });
        // A dead instance frees its place for whoever waits.
        void fresh.exited.then(() => this.waiting.shift()?.());
        this.instances.push(fresh);
        fresh.running++;
        return fresh;
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  /** Dead instances with nothing in flight leave the pool. */
  private prune(): void {
    for (let n = this.instances.length - 1; n >= 0; n--) {
      const i = this.instances[n]!;
      if (!i.dead || i.running > 0) continue;
      this.retiredCpuUs += i.cpuUs;
      this.instances.splice(n, 1);
    }
  }
}
