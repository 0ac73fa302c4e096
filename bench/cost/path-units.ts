/**
 * Each path's billable units for a run of N instances whose scripts take T seconds, from what was
 * measured (pure: the measuring is in measure.ts and measure-polling.ts).
 *
 * Event path: every count grows with the instances and not with T, so each is measured at two sizes
 * and extended along the line through both (u(N) = a + b·N, a and b from the two samples; both
 * samples are printed, so the line can be judged). The reconciler is the exception: its timer fires
 * once a minute whatever the run, so ⌈T/60⌉ firings are added as measured. FC keeps an instance a
 * minute after its last request; how many instances FC runs is not measured (the local host caps
 * them), so it is estimated as the busy seconds ÷ the window the events arrive in.
 *
 * Polling baseline: invocations = ⌈N/100⌉ RunCommand calls; each is polled every p seconds until
 * its last script has ended, ⌊T/p⌋ + 1 polls, each costing the measured calls per poll;
 * DescribeInvocations calls = invocations × (⌊T/p⌋ + 1) × calls per poll. The poller function is
 * active the whole time (⌊T/p⌋ + 1 intervals plus its RunCommand calls) and writes summary.json,
 * summary.md and report.html: 3 PUTs.
 */
import type { FunctionUse, PathUnits } from './cost-model.ts';
import type { FunctionSize } from './function-size.ts';
import type { EventPathSample, ServiceSample } from './measure.ts';
import type { PollingSample } from './measure-polling.ts';

export const INSTANCES_PER_CALL = 100;
/** FC 3.0's default per-function instance limit (90% of the region's 100). */
const FC_INSTANCE_LIMIT = 90;
const SUMMARY_OBJECTS = 3;

export interface RunShape {
  instances: number;
  /** How long the scripts run. */
  scriptSeconds: number;
  /** The keep-alive after an instance's last request (prices.ts fc.keepAliveSeconds). */
  keepAliveSeconds: number;
}

export interface EventShape extends RunShape {
  /** Over how many seconds the TaskCompleted events arrive (an assumption: it sets how many instances FC runs). */
  arrivalWindowSeconds: number;
  timerPeriodSeconds: number;
}

/** The value on the line through (n1, u1) and (n2, u2) at n, never below 0. */
export function alongLine(n1: number, u1: number, n2: number, u2: number, n: number): number {
  if (n1 === n2) throw new Error('two samples of different sizes are needed');
  const slope = (u2 - u1) / (n2 - n1);
  return Math.max(0, u1 + slope * (n - n1));
}

function sumRecords(records: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function sizeOf(sizes: Record<string, FunctionSize>, name: string): FunctionSize {
  const size = sizes[name];
  if (!size) throw new Error(`s.yaml gives no size for ${name}`);
  return size;
}

export interface EventUnitsInput {
  samples: [EventPathSample, EventPathSample];
  /** One or more measured reconciler firings; their mean is used. */
  firings: ServiceSample[];
  sizes: Record<string, FunctionSize>;
  dispatchFunction: string;
  shape: EventShape;
}

export function eventPathUnits(input: EventUnitsInput): PathUnits {
  const [s1, s2] = input.samples;
  const { shape } = input;
  const at = (pick: (s: EventPathSample) => number) => alongLine(s1.instances, pick(s1), s2.instances, pick(s2), shape.instances);
  const functions: FunctionUse[] = [];
  const names = [...new Set([...Object.keys(s1.functions), ...Object.keys(s2.functions)])].sort();
  for (const name of names) {
    const invocations = Math.round(at((s) => s.functions[name]?.invocations ?? 0));
    const activeSeconds = at((s) => s.functions[name]?.activeSeconds ?? 0);
    const instances = Math.min(FC_INSTANCE_LIMIT, Math.max(1, Math.ceil(activeSeconds / shape.arrivalWindowSeconds)));
    functions.push({ name, size: sizeOf(input.sizes, name), invocations, activeSeconds, idleSeconds: invocations > 0 ? instances * shape.keepAliveSeconds : 0, paysHourlyMinimum: true });
  }
  functions.push({
    name: input.dispatchFunction,
    size: sizeOf(input.sizes, input.dispatchFunction),
    invocations: 1,
    activeSeconds: at((s) => s.dispatchSeconds),
    idleSeconds: shape.keepAliveSeconds,
    paysHourlyMinimum: true,
  });

  // The reconciler: ⌈T/60⌉ firings during the run, each as measured (the mean of the firings).
  const firings = Math.ceil(shape.scriptSeconds / shape.timerPeriodSeconds);
  const mean = (pick: (f: ServiceSample) => number) => input.firings.reduce((sum, f) => sum + pick(f), 0) / input.firings.length;
  const timerFunctions = [...new Set(input.firings.flatMap((f) => Object.keys(f.functions)))].sort();
  for (const name of timerFunctions) {
    functions.push({
      name: `${name} (timer, ${firings} firings)`,
      size: sizeOf(input.sizes, name),
      invocations: Math.round(firings * mean((f) => f.functions[name]?.invocations ?? 0)),
      activeSeconds: firings * mean((f) => f.functions[name]?.activeSeconds ?? 0),
      // Called every minute whatever the runs: its keep-alive and hourly minimum are the deployment's.
      idleSeconds: 0,
      paysHourlyMinimum: false,
    });
  }
  const firingEcs = sumRecords(input.firings.map((f) => f.ecsCalls));
  const ecsActions = [...new Set([...Object.keys(s1.ecsCalls), ...Object.keys(s2.ecsCalls), ...Object.keys(firingEcs)])];
  const ecsCalls = Object.fromEntries(
    ecsActions.map((a) => [a, Math.round(at((s) => s.ecsCalls[a] ?? 0) + (firings * (firingEcs[a] ?? 0)) / input.firings.length)]),
  );
  return {
    functions,
    systemBusEvents: Math.round(at((s) => s.systemBusEvents)),
    eventStreamEvents: Math.round(at((s) => s.eventStreamEvents)),
    mnsRequests: Math.round(at((s) => s.requests.mnsRequests) + firings * mean((f) => f.requests.mnsRequests)),
    mnsStreamRequests: Math.round(at((s) => s.requests.mnsStreamRequests) + firings * mean((f) => f.requests.mnsStreamRequests)),
    ossPut: Math.round(at((s) => s.requests.ossPut) + firings * mean((f) => f.requests.ossPut)),
    ossGet: Math.round(at((s) => s.requests.ossGet) + firings * mean((f) => f.requests.ossGet)),
    ecsCalls,
  };
}

export type PollerLayout = 'one function' | 'one function per invocation';

export interface PollingUnitsInput {
  sample: PollingSample;
  size: FunctionSize;
  shape: RunShape;
  pollSeconds: number;
  layout: PollerLayout;
}

export interface PollingDerivation {
  units: PathUnits;
  invocations: number;
  pollsPerInvocation: number;
  describeInvocationsCalls: number;
  /** DescribeInvocations calls per second while polling. */
  callsPerSecond: number;
  pollerActiveSeconds: number;
}

export function pollingUnits(input: PollingUnitsInput): PollingDerivation {
  const { shape, sample, pollSeconds } = input;
  const invocations = Math.ceil(shape.instances / INSTANCES_PER_CALL);
  const pollsPerInvocation = Math.floor(shape.scriptSeconds / pollSeconds) + 1;
  const describeInvocationsCalls = Math.round(invocations * pollsPerInvocation * sample.callsPerPollPerInvocation);
  const pollingSeconds = pollsPerInvocation * pollSeconds;
  const perInvocation = input.layout === 'one function per invocation';
  const pollers = perInvocation ? invocations : 1;
  // One poller sends every RunCommand call before polling; a poller per invocation sends its own.
  const pollerActiveSeconds = pollers * pollingSeconds + invocations * sample.runCommandSeconds;
  return {
    units: {
      functions: [{ name: perInvocation ? `poller ×${pollers}` : 'poller', size: input.size, invocations: pollers, activeSeconds: pollerActiveSeconds, idleSeconds: pollers * shape.keepAliveSeconds, paysHourlyMinimum: true }],
      systemBusEvents: 0,
      eventStreamEvents: 0,
      mnsRequests: 0,
      mnsStreamRequests: 0,
      ossPut: SUMMARY_OBJECTS,
      ossGet: 0,
      ecsCalls: { RunCommand: invocations, DescribeInvocations: describeInvocationsCalls },
    },
    invocations,
    pollsPerInvocation,
    describeInvocationsCalls,
    callsPerSecond: (invocations * sample.callsPerPollPerInvocation) / pollSeconds,
    pollerActiveSeconds,
  };
}
