/**
 * How long each local FC invocation executed, per function: what FC 3.0 bills (a request from the
 * moment it starts executing on an instance to its end). The FC host counts invocations but not
 * their durations, so this wraps the instance's invoke for as long as the probe is installed —
 * timing from when the instance is ready (its process started and its module loaded: FC's cold
 * start, not billed as the request's) to the answer, and not the wait for a free instance.
 * A `busyMs` counter beside `stats.invocations` in local/fc/instance-process.ts would replace it.
 */
import { InstanceProcess } from '../../local/fc/instance-process.ts';

export interface FunctionTimes {
  invocations: number;
  activeMs: number;
}

/** What the wrapper reads of an instance: private fields, present at run time. */
interface InstanceInternals {
  ready: Promise<void>;
  o: { functionName: string };
}

export interface FcProbe {
  byFunction: Map<string, FunctionTimes>;
  /** Invocations executing now, every function together. */
  readonly inFlight: number;
  snapshot(): Record<string, FunctionTimes>;
  uninstall(): void;
}

let installed = false;

/** One probe at a time: it patches the class this process's FC hosts share. */
export function installFcProbe(): FcProbe {
  if (installed) throw new Error('an FC probe is already installed in this process');
  installed = true;
  const byFunction = new Map<string, FunctionTimes>();
  const original = InstanceProcess.prototype.invoke;
  let inFlight = 0;
  InstanceProcess.prototype.invoke = async function probed(this: InstanceProcess, event: Buffer, requestId: string): Promise<unknown> {
    const internals = this as unknown as InstanceInternals;
    await internals.ready;
    const started = performance.now();
    inFlight++;
    try {
      return await original.call(this, event, requestId);
    } finally {
      inFlight--;
      const t = byFunction.get(internals.o.functionName) ?? { invocations: 0, activeMs: 0 };
      t.invocations++;
      t.activeMs += performance.now() - started;
      byFunction.set(internals.o.functionName, t);
    }
  };
  return {
    byFunction,
    get inFlight() {
      return inFlight;
    },
    snapshot: () => Object.fromEntries([...byFunction].map(([k, v]) => [k, { ...v }])),
    uninstall() {
      InstanceProcess.prototype.invoke = original;
      installed = false;
    },
  };
}
