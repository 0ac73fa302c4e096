/**
 * The platform reference's §2.2 table, for the library's statuses (shared/cloud-assistant/) and
 * the local Cloud Assistant's (local/ecs/), which are written apart and must both follow it.
 */

/** An invocation's overall status → the legacy InvokeStatus DescribeInvocations still answers. */
export const LEGACY_INVOKE_STATUS = [
  ['Pending', 'Running'],
  ['Scheduled', 'Running'], // a periodic task stays Running until it is stopped
  ['Running', 'Running'],
  ['Stopping', 'Stopping'],
  ['Success', 'Finished'],
  ['Failed', 'Failed'],
  ['PartialFailed', 'PartialFailed'],
  ['Stopped', 'Stopped'],
] as const;
