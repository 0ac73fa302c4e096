/**
 * The local Cloud Assistant's own status rules, written from seed 004 (DescribeInvocations: the overall status
 * "depends on the execution states of the command task on all involved instances"; DescribeInvocations shows only a
 * periodic task's latest run) and the platform reference §2.1–2.4, not from the library, so a test can compare the two.
 */

/** Per-instance InvocationStatus (reference §2.1). */
export const INSTANCE_STATUSES = [
  'Pending', // being checked or sent
  'Scheduled', // a periodic task waiting for its next run (never a one-time task)
  'Running',
  'Stopping', // StopInvocation asked, not yet stopped
  'Success',
  'Failed', // ran and exited non-zero
  'Invalid', // command or parameters refused on the instance (user or working directory missing, bad cron, …)
  'Aborted', // could not be delivered
  'Timeout',
  'Error', // could not go on because of an exception
  'Cancelled', // stopped before it started
  'Terminated', // stopped while it ran
] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

/** The overall InvocationStatus of a task (reference §2.2). */
export type InvocationStatus = 'Pending' | 'Scheduled' | 'Running' | 'Stopping' | 'Success' | 'Failed' | 'PartialFailed' | 'Stopped';

/** The legacy overall InvokeStatus (reference §2.2; seed 004's InvokeStatus filter and response field). */
export type LegacyInvokeStatus = 'Running' | 'Stopping' | 'Finished' | 'Failed' | 'PartialFailed' | 'Stopped';

/** The coarse per-record InvokeRecordStatus of DescribeInvocationResults (reference §2.2). */
export type InvokeRecordStatus = 'Running' | 'Stopping' | 'Finished' | 'Failed' | 'Stopped';

type Outcome = 'success' | 'failed' | 'stopped';

/** How each final status counts in the overall status (reference §2.3); the statuses not listed are not final. */
const OUTCOME: Partial<Record<InstanceStatus, Outcome>> = {
  Success: 'success',
  Failed: 'failed',
  Invalid: 'failed',
  Aborted: 'failed',
  Timeout: 'failed',
  Error: 'failed',
  Cancelled: 'stopped',
  Terminated: 'stopped',
};

/** True when the instance's record will not change again (its run, or its schedule, has ended). */
export function isFinal(status: InstanceStatus): boolean {
  return OUTCOME[status] !== undefined;
}

/**
 * Which non-final status the task shows when its instances are in several. The documents state each rule as "at least
 * one instance is X", which does not say who wins when one instance is Pending and another Running; the reference
 * marks the order unconfirmed [U]. The emulator's choice: a task still being sent anywhere is Pending; otherwise one
 * still running anywhere is Running; then Stopping; Scheduled only when every unfinished instance merely waits for its
 * next run.
 */
export const NON_FINAL_PRECEDENCE: readonly InstanceStatus[] = ['Pending', 'Running', 'Stopping', 'Scheduled'];

/**
 * The task's InvocationStatus from its instances' statuses (reference §2.3): any unfinished instance decides it (by
 * NON_FINAL_PRECEDENCE); when all are final: all stopped → Stopped; successes besides stopped ones → Success; failures
 * besides stopped ones → Failed; successes and failures → PartialFailed.
 */
export function overallStatus(statuses: readonly InstanceStatus[]): InvocationStatus {
  if (statuses.length === 0) throw new RangeError('A task has at least one instance.');
  for (const status of NON_FINAL_PRECEDENCE) {
    if (statuses.includes(status)) return status as InvocationStatus;
  }
  const outcomes = new Set(statuses.map((s) => OUTCOME[s]));
  const succeeded = outcomes.has('success');
  const failed = outcomes.has('failed');
  if (succeeded && failed) return 'PartialFailed';
  if (succeeded) return 'Success';
  if (failed) return 'Failed';
  return 'Stopped';
}

/**
 * The legacy InvokeStatus shown beside InvocationStatus (reference §2.2): everything not yet ended is Running (a
 * periodic task stays Running until stopped), Stopping stays Stopping, Success is Finished, and Failed, PartialFailed
 * and Stopped keep their names.
 */
export function legacyInvokeStatus(overall: InvocationStatus): LegacyInvokeStatus {
  switch (overall) {
    case 'Pending':
    case 'Scheduled':
    case 'Running':
      return 'Running';
    case 'Success':
      return 'Finished';
    default:
      return overall;
  }
}

/**
 * The coarse InvokeRecordStatus of one record (reference §2.2): a run that exited non-zero still Finished (the old
 * sample: InvocationStatus Failed, InvokeRecordStatus Finished, ErrorCode ExitCodeNonzero), while a timeout is Failed
 * (the SDK's doc comment: "when a one-time execution times out, its InvokeRecordStatus becomes Failed"), as is every
 * run that could not be delivered or carried out.
 */
export function invokeRecordStatus(status: InstanceStatus): InvokeRecordStatus {
  switch (status) {
    case 'Pending':
    case 'Scheduled':
    case 'Running':
      return 'Running';
    case 'Stopping':
      return 'Stopping';
    case 'Success':
    case 'Failed':
      return 'Finished';
    case 'Cancelled':
    case 'Terminated':
      return 'Stopped';
    case 'Invalid':
    case 'Aborted':
    case 'Timeout':
    case 'Error':
      return 'Failed';
  }
}
