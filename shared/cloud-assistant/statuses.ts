/**
 * Per-instance and overall invocation statuses, and how the overall one is derived.
 * @see docs/platform-facts.md §3.1–3.3
 */

export const INSTANCE_STATUSES = [
  'Pending', 'Scheduled', 'Running', 'Stopping',
  'Success', 'Failed', 'Invalid', 'Aborted', 'Timeout', 'Error', 'Cancelled', 'Terminated',
] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

export const OVERALL_STATUSES = [
  'Pending', 'Scheduled', 'Running', 'Stopping', 'Success', 'Failed', 'PartialFailed', 'Stopped',
] as const;
export type OverallStatus = (typeof OVERALL_STATUSES)[number];

export const STATUS_CLASSES = {
  success: ['Success'],
  failed: ['Invalid', 'Aborted', 'Failed', 'Timeout', 'Error'],
  stopped: ['Cancelled', 'Terminated'],
  running: ['Pending', 'Scheduled', 'Running', 'Stopping'],
} as const satisfies Record<string, readonly InstanceStatus[]>;
export type StatusClass = keyof typeof STATUS_CLASSES;

const CLASS_OF = new Map<InstanceStatus, StatusClass>(
  Object.entries(STATUS_CLASSES).flatMap(([cls, list]) => list.map((s) => [s, cls as StatusClass] as const)),
);

export function statusClass(status: InstanceStatus): StatusClass {
  // Every member of INSTANCE_STATUSES is in exactly one class, so the lookup cannot miss.
  return CLASS_OF.get(status)!;
}

export function isFinal(status: InstanceStatus): boolean {
  return statusClass(status) !== 'running';
}

/**
 * The docs state each non-final rule as "at least one instance is X", which is ambiguous when one
 * instance is Pending and another Running; this fixed precedence is fleetrun's choice (reference §2.3).
 */
const NON_FINAL_PRECEDENCE = ['Pending', 'Running', 'Stopping', 'Scheduled'] as const;

/** The overall InvocationStatus of a task from its per-instance statuses (reference §2.3). */
export function overallStatus(statuses: Iterable<InstanceStatus>): OverallStatus {
  const seen = new Set<InstanceStatus>(statuses);
  for (const s of NON_FINAL_PRECEDENCE) if (seen.has(s)) return s;
  let success = false;
  let failed = false;
  for (const s of seen) {
    const cls = statusClass(s);
    if (cls === 'success') success = true;
    else if (cls === 'failed') failed = true;
  }
  if (success && failed) return 'PartialFailed';
  if (failed) return 'Failed';
  if (success) return 'Success';
  // All stopped, or no instance at all: nothing ran to completion.
  return 'Stopped';
}

/** Legacy overall `InvokeStatus` derived from the same per-instance statuses (reference §2.2). */
export function legacyInvokeStatus(overall: OverallStatus): 'Running' | 'Finished' | 'Failed' | 'PartialFailed' | 'Stopped' | 'Stopping' {
  switch (overall) {
    case 'Pending':
    case 'Scheduled':
    case 'Running':
      return 'Running';
    case 'Stopping':
      return 'Stopping';
    case 'Success':
      return 'Finished';
    default:
      return overall;
  }
}

/** Coarse per-record `InvokeRecordStatus`: a one-time run that timed out reads Failed (reference §2.1). */
export function invokeRecordStatus(status: InstanceStatus): 'Running' | 'Finished' | 'Failed' | 'Stopped' | 'Stopping' {
  switch (statusClass(status)) {
    case 'running':
      return status === 'Stopping' ? 'Stopping' : 'Running';
    case 'success':
      return 'Finished';
    case 'stopped':
      return 'Stopped';
    case 'failed':
      // The old sample shows an exit-code-1 run as Finished; timeouts and failures to run read Failed.
      return status === 'Failed' ? 'Finished' : 'Failed';
  }
}
