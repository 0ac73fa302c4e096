/**
 * What the fault tests' runs share: the script their fleets run (web-* instances succeed, bad-*
 * fail), the statuses that gives a fleet made by fleetOf, and the results queue's depth.
 */
import type { InstanceStatus } from '../../shared/cloud-assistant/statuses.ts';
import type { PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

/** Instances named bad-* print "failing" and exit 4; the others print "fine <name>". */
export const FINE_OR_FAILING_SCRIPT = 'case "{{ACS::InstanceName}}" in bad-*) echo failing; exit 4 ;; *) echo "fine {{ACS::InstanceName}}" ;; esac';

/** The same, with four instances finishing at once and the rest 1.5 s later, so a first batch holds only the early four. */
export const STAGGERED_SCRIPT = `case "{{ACS::InstanceName}}" in web-0[0-3]) ;; *) sleep 1.5 ;; esac\n${FINE_OR_FAILING_SCRIPT}`;

/** The queues of s.yaml that the summarizer reads from and that MNS moves a message to after its last retry. */
export const RESULTS_QUEUE = 'fleetrun-results';
export const DEAD_LETTERS = 'fleetrun-results-dlq';

/**
 * The statuses a fleetOf(prefix, [web, bad]) fleet running {@link FINE_OR_FAILING_SCRIPT} ends in:
 * i-<prefix>000000 onwards, the first `web` Success and the next `bad` Failed.
 */
export function expectedStatuses(prefix: string, web: number, bad: number): Map<string, InstanceStatus> {
  const expected = new Map<string, InstanceStatus>();
  for (let n = 0; n < web + bad; n++) expected.set(`i-${prefix}${String(n).padStart(6, '0')}`, n < web ? 'Success' : 'Failed');
  return expected;
}

/** Messages the queue holds: visible, received and not yet deleted, or delayed. */
export async function queued(pc: PipelineCloud, queue: string): Promise<number> {
  const q = await pc.cloud.mns.store.getQueueAttributes(queue);
  return q.activeMessages + q.inactiveMessages + q.delayMessages;
}
