/**
 * What the fault tests' runs share: the script their fleets run (web-* instances succeed, bad-*
 * fail), the statuses that gives a fleet made by fleetOf, the results queue's depth, and how many
 * results its messages carry (one each, or several packed: shared/queue/result-packing.ts).
 */
import type { InstanceStatus } from '../../shared/cloud-assistant/statuses.ts';
import { resultMessagesEnvelope } from '../../shared/pipeline/summarize.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
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

/** Every TaskCompleted event served: task-events answers only once MNS accepted its results, so all of them are queued (or were). */
export function everyResultSent(pc: PipelineCloud, total: number): boolean {
  return pc.cloud.bus.counts.eventsDelivered >= total;
}

/** The results these messages carry, as summarize's trigger (IsBase64Decode: true) hands them over; a record that is not a result throws. */
export function resultsInEvents(events: unknown[]): InstanceResult[] {
  return resultMessagesEnvelope({ isBase64Decode: true })
    .records(events)
    .map((r) => {
      if (!r.ok) throw new Error(`${r.id}: ${r.reason}`);
      return r.record;
    });
}

/** The results in the queue's visible messages (bodies as sent: base64). */
export async function visibleResults(pc: PipelineCloud, queue: string): Promise<InstanceResult[]> {
  const messages = await pc.cloud.mns.store.peekMessages(queue, 1000);
  return resultsInEvents(messages.map((m) => ({ data: { messageId: m.messageId, messageBody: Buffer.from(m.body, 'base64').toString('utf8') } })));
}

/** One invocation of the summarizer as {@link watchSummarizeBatches} saw it: the results it was handed (a message redelivered after its visibility timeout counts again) and how it ended. */
export interface SummarizeBatch {
  results: number;
  instanceIds: string[];
  ok: boolean | undefined;
}

/**
 * The results in each batch the event stream hands the summarize function, in order, and whether
 * it answered: read from the invocation payloads on their way in (the function is wrapped, not
 * replaced).
 */
export function watchSummarizeBatches(pc: PipelineCloud): SummarizeBatch[] {
  const fn = pc.cloud.fc!.functions.get('fleetrun-summarize')!;
  const batches: SummarizeBatch[] = [];
  const invoke = fn.invoke.bind(fn);
  fn.invoke = async (event, requestId) => {
    const results = resultsInEvents(JSON.parse(event.toString('utf8')) as unknown[]);
    const batch: SummarizeBatch = { results: results.length, instanceIds: results.map((r) => r.instanceId), ok: undefined };
    batches.push(batch);
    try {
      const answer = await invoke(event, requestId);
      batch.ok = true;
      return answer;
    } catch (e) {
      batch.ok = false;
      throw e;
    }
  };
  return batches;
}
