/**
 * What a path costs, from its billable units and the prices (prices.ts): one line per function and
 * billable item, then the other services. Pure: the units are measured or derived elsewhere
 * (measure.ts, polling-units.ts).
 *
 * Function Compute 3.0 turns every resource into CU — invocations × 0.0075, active vCPU-seconds × 1,
 * memory GB-seconds × 0.15, idle vCPU × 0 — and a function's CU in an hourly period is rounded up to
 * a whole CU. A run is taken to fall in one billing hour. Since 2025-12-09 a function called in an
 * hour pays at least 0.01 CNY for it, and an instance is kept (idle) a minute after its last request.
 */
import type { FunctionSize } from './function-size.ts';
import { PRICES, type Prices } from './prices.ts';

export interface FunctionUse {
  name: string;
  size: FunctionSize;
  invocations: number;
  /** Seconds requests executed, summed over invocations (FC bills each from its start to its end). */
  activeSeconds: number;
  /** Seconds instances were kept after their last request: instances × the keep-alive. */
  idleSeconds: number;
  /**
   * Whether the path's use is what makes the function pay the hourly minimum: false for a function
   * that is called every hour anyway (the reconciler's timer), whose minimum is the deployment's.
   */
  paysHourlyMinimum: boolean;
}

export interface PathUnits {
  functions: FunctionUse[];
  /** TaskCompleted events on the system bus, each pushed to task-events. */
  systemBusEvents: number;
  /** Events an event stream pulled from its source (summarize's MNS trigger). */
  eventStreamEvents: number;
  /** MNS requests the functions made. */
  mnsRequests: number;
  /** MNS requests the event stream made consuming the queue (billing to the queue's owner unconfirmed; counted). */
  mnsStreamRequests: number;
  /** PUT-type OSS requests, ListObjects included, answered 2xx/3xx. */
  ossPut: number;
  /** GET-type OSS requests answered 2xx/3xx. */
  ossGet: number;
  /** ECS API calls by action. */
  ecsCalls: Record<string, number>;
}

export interface CostLine {
  line: string;
  units: number;
  unit: string;
  /** CNY per unit. */
  unitPriceCny: number;
  cny: number;
}

export interface PathCost {
  lines: CostLine[];
  /** CU per function, after rounding up to whole CU. */
  cuByFunction: Record<string, number>;
  totalCny: number;
}

function line(name: string, units: number, unit: string, unitPriceCny: number): CostLine {
  return { line: name, units, unit, unitPriceCny, cny: units * unitPriceCny };
}

function functionLines(f: FunctionUse, prices: Prices): { lines: CostLine[]; cu: number } {
  const fc = prices.fc;
  const cuPrice = fc.cu.cny / fc.cu.per;
  const gb = f.size.memoryMb / 1024;
  const parts = [
    { name: `FC ${f.name}: invocations`, units: f.invocations, unit: 'invocation', cu: fc.cuPerInvocation.value },
    { name: `FC ${f.name}: active vCPU (${f.size.vcpu} vCPU)`, units: f.activeSeconds * f.size.vcpu, unit: 'vCPU·s', cu: fc.cuPerActiveVcpuSecond.value },
    { name: `FC ${f.name}: memory while active (${f.size.memoryMb} MB)`, units: f.activeSeconds * gb, unit: 'GB·s', cu: fc.cuPerMemoryGbSecond.value },
    { name: `FC ${f.name}: kept after last request, vCPU idle`, units: f.idleSeconds * f.size.vcpu, unit: 'vCPU·s', cu: fc.cuPerIdleVcpuSecond.value },
    { name: `FC ${f.name}: kept after last request, memory`, units: f.idleSeconds * gb, unit: 'GB·s', cu: fc.cuPerMemoryGbSecond.value },
  ];
  const lines = parts.filter((p) => p.units > 0).map((p) => line(p.name, p.units, p.unit, p.cu * cuPrice));
  const exactCu = parts.reduce((sum, p) => sum + p.units * p.cu, 0);
  // The tolerance keeps a sum like 118.00000000000001 from billing a CU it did not use.
  const cu = exactCu <= 0 ? 0 : Math.ceil(exactCu - 1e-9);
  if (cu > exactCu) lines.push(line(`FC ${f.name}: hour's CU rounded up`, cu - exactCu, 'CU', cuPrice));
  const spent = cu * cuPrice;
  if (f.paysHourlyMinimum && f.invocations > 0 && spent < fc.hourlyMinimumCny.value) lines.push(line(`FC ${f.name}: hourly minimum (${fc.hourlyMinimumCny.value} CNY)`, 1, 'hour', fc.hourlyMinimumCny.value - spent));
  return { lines, cu };
}

export function pathCost(units: PathUnits, prices: Prices = PRICES): PathCost {
  const lines: CostLine[] = [];
  const cuByFunction: Record<string, number> = {};
  for (const f of units.functions) {
    const r = functionLines(f, prices);
    lines.push(...r.lines);
    cuByFunction[f.name] = r.cu;
  }
  const per = (p: { cny: number; per: number }) => p.cny / p.per;
  const eb = prices.eventBridge;
  if (units.systemBusEvents > 0) {
    lines.push(line('EventBridge: TaskCompleted on the system bus', units.systemBusEvents, 'event', per(eb.systemBusEvent)));
    lines.push(line('EventBridge: pushed to Function Compute', units.systemBusEvents, 'event', per(eb.pushToAlibabaCloudTarget)));
  }
  if (units.eventStreamEvents > 0) lines.push(line('EventBridge: event-stream events (MNS → summarize)', units.eventStreamEvents, 'event', per(eb.eventStreamEvent)));
  if (units.mnsRequests > 0) lines.push(line('MNS: sends (functions)', units.mnsRequests, 'request', per(prices.mns.request)));
  if (units.mnsStreamRequests > 0) lines.push(line('MNS: receives and deletes (event stream)', units.mnsStreamRequests, 'request', per(prices.mns.request)));
  if (units.ossPut > 0) lines.push(line('OSS: PUT-type requests', units.ossPut, 'request', per(prices.oss.put)));
  if (units.ossGet > 0) lines.push(line('OSS: GET-type requests', units.ossGet, 'request', per(prices.oss.get)));
  for (const [action, n] of Object.entries(units.ecsCalls).sort(([a], [b]) => a.localeCompare(b))) {
    if (n > 0) lines.push(line(`ECS: ${action}`, n, 'call', per(prices.ecs.cloudAssistantCall)));
  }
  return { lines, cuByFunction, totalCny: lines.reduce((sum, l) => sum + l.cny, 0) };
}
