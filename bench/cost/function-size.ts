/**
 * A function's billed size from its s.yaml props, as Serverless Devs' fc3 component deploys it:
 * memorySize defaults to 512 MB, and 512 MB with neither cpu nor diskSize gets 0.35 vCPU. Any other
 * size without cpu gets what FC decides, which no document states; the model takes the most FC
 * allows (1 vCPU per GB) and says so (prices.ts, fc.defaultVcpu).
 */
import { z } from 'zod';

export interface FunctionSize {
  memoryMb: number;
  vcpu: number;
  /** Where the vCPU figure comes from. */
  vcpuFrom: 's.yaml' | 'fc3 default for 512 MB' | 'assumed 1 vCPU per GB';
}

const propsSchema = z.looseObject({
  memorySize: z.coerce.number().int().positive().optional(),
  cpu: z.coerce.number().positive().optional(),
  diskSize: z.coerce.number().int().positive().optional(),
});

const DEFAULT_MEMORY_MB = 512;
const CONSOLE_DEFAULT_VCPU = 0.35;

export function functionSize(props: unknown): FunctionSize {
  const p = propsSchema.parse(props);
  const memoryMb = p.memorySize ?? DEFAULT_MEMORY_MB;
  if (p.cpu !== undefined) return { memoryMb, vcpu: p.cpu, vcpuFrom: 's.yaml' };
  if (memoryMb === DEFAULT_MEMORY_MB && p.diskSize === undefined) return { memoryMb, vcpu: CONSOLE_DEFAULT_VCPU, vcpuFrom: 'fc3 default for 512 MB' };
  return { memoryMb, vcpu: memoryMb / 1024, vcpuFrom: 'assumed 1 vCPU per GB' };
}
