/**
 * A run's result for one instance, from what the service reports of it (DescribeInvocationResults
 * or DescribeInvocations): the reconciler's path, and the polling baseline's in the benchmark.
 */
import type { InstanceResult as ServiceResult } from '../cloud-assistant/port.ts';
import type { InstanceResult } from '../runs/result.ts';
import { redact } from '../runtime/logger.ts';

export function resultFromService(runId: string, r: ServiceResult, commandId: string, secrets: string[] = []): InstanceResult {
  return {
    version: 1,
    runId,
    invokeId: r.invokeId,
    commandId: r.commandId || commandId,
    instanceId: r.instanceId,
    status: r.status,
    exitCode: r.exitCode,
    errorCode: r.errorCode,
    errorInfo: redact(r.errorInfo, secrets),
    ...(r.startTime ? { startTime: r.startTime.toISOString() } : {}),
    ...(r.finishTime ? { finishTime: r.finishTime.toISOString() } : {}),
    output: redact(r.output, secrets),
    outputBytes: Buffer.byteLength(r.output) + r.dropped,
    // The schema's name for a result read from the service rather than carried by an event.
    source: 'reconciler',
  };
}
