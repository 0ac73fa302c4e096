/**
 * A run's result for one instance, from what the service reports of it (DescribeInvocationResults
 * or DescribeInvocations): the reconciler's path, and the polling baseline's in the benchmark.
 */
import type { InstanceResult as ServiceResult } from '../cloud-assistant/port.ts';
import type { InstanceResult } from '../runs/result.ts';
import { NO_SECRETS, type Redactor } from '../runtime/redaction.ts';

/** Output and error text go through `redactor`: the run's secrets (redactorFor in redaction.ts). */
export function resultFromService(runId: string, r: ServiceResult, commandId: string, redactor: Redactor = NO_SECRETS): InstanceResult {
  return {
    version: 1,
    runId,
    invokeId: r.invokeId,
    commandId: r.commandId || commandId,
    instanceId: r.instanceId,
    status: r.status,
    exitCode: r.exitCode,
    errorCode: r.errorCode,
    errorInfo: redactor.redact(r.errorInfo),
    ...(r.startTime ? { startTime: r.startTime.toISOString() } : {}),
    ...(r.finishTime ? { finishTime: r.finishTime.toISOString() } : {}),
    output: redactor.redact(r.output),
    outputBytes: Buffer.byteLength(r.output) + r.dropped,
    // The schema's name for a result read from the service rather than carried by an event.
    source: 'reconciler',
  };
}
