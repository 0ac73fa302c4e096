/**
 * A run asked for by instance id whose targets fail in every way an instance can: one does not
 * exist, one is Stopped, one has its agent offline, one's agent goes offline after targeting saw it
 * online (the agent refuses it at delivery), one's script fails, and one's script outlives its
 * Timeout with children in the background under TerminationMode ProcessTree. The summary must name
 * every requested target once with a status that says what happened, and no process of the script
 * may be left behind. Time-scaled: Timeout 10 s lasts 0.5 s.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceStatus } from '../../shared/cloud-assistant/statuses.ts';
import { isAlive } from '../support/ecs-test-cloud.ts';
import { startPipelineCloud, waitUntil, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { executedInstances, expectEachExecutedOnce, expectExactSummary, summaryOf } from '../support/run-checks.ts';

const FLEET = `instances:
  - { id: i-inst000000, name: ok-00 }
  - { id: i-inst000001, name: ok-01 }
  - { id: i-inst000002, name: bad-00 }
  - { id: i-inst000003, name: slow-00 }
  - { id: i-inst000004, name: offline-00, agent: { online: false } }
  - { id: i-inst000005, name: late-00 }
  - { id: i-inst000006, name: stopped-00, status: Stopped }
`;
const MISSING = 'i-nosuch000001';
const SLOW = 'i-inst000003';
const LATE = 'i-inst000005';

// The slow instance records its own pid and two children's, then outlives its Timeout.
const SCRIPT = `case "{{ACS::InstanceName}}" in
  bad-*) echo broken; exit 2 ;;
  slow-*)
    echo $$ > pids
    sleep 30 >/dev/null 2>&1 &
    echo $! >> pids
    sh -c 'sleep 30' >/dev/null 2>&1 &
    echo $! >> pids
    echo waiting
    sleep 30 ;;
  *) echo fine ;;
esac`;

/** What the summary must say of each requested target: status, error code, and how it is counted. */
const EXPECTED: Record<string, { status: InstanceStatus; errorCode: string; statusClass: string }> = {
  'i-inst000000': { status: 'Success', errorCode: '', statusClass: 'success' },
  'i-inst000001': { status: 'Success', errorCode: '', statusClass: 'success' },
  'i-inst000002': { status: 'Failed', errorCode: 'ExitCodeNonzero', statusClass: 'failed' },
  [SLOW]: { status: 'Timeout', errorCode: 'ExecutionTimeout', statusClass: 'failed' },
  // Set aside before any command was sent: counted, with the reason, as not run.
  'i-inst000004': { status: 'Aborted', errorCode: 'ClientNotRunning', statusClass: 'skipped' },
  'i-inst000006': { status: 'Aborted', errorCode: 'InstanceNotRunning', statusClass: 'skipped' },
  [MISSING]: { status: 'Aborted', errorCode: 'InstanceNotExists', statusClass: 'skipped' },
  // Sent, and refused by the instance's agent: the agent's own status and code.
  [LATE]: { status: 'Aborted', errorCode: 'ClientNotRunning', statusClass: 'failed' },
};

let pc: PipelineCloud | undefined;
let sandboxRoot: string | undefined;
const spawned: number[] = [];
afterEach(async () => {
  // Whatever the test found, leave no process behind for the next file.
  for (const pid of spawned.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await pc?.close();
  pc = undefined;
  if (sandboxRoot) await rm(sandboxRoot, { recursive: true, force: true });
});

describe('instance faults among the targets', () => {
  it('account for every requested target once with a clear status, and leave no process behind', async () => {
    // Prepare: the late agent goes offline once targeting has read it as online (the emulator logs
    // a response after sending it, before the agent picks the task up).
    sandboxRoot = await mkdtemp(path.join(tmpdir(), 'fleetrun-instance-faults-'));
    pc = await startPipelineCloud(FLEET, {
      sandboxRoot,
      ecs: { timeScale: 20 },
      log: (line) => {
        if (line.startsWith('[ecs] DescribeCloudAssistantStatus 200')) pc!.cloud.ecs.fleet.get(LATE)!.agent.online = false;
      },
    });
    const targets = [...Object.keys(EXPECTED)].sort();

    // Act
    const manifest = await pc.run({
      command: { name: 'instance-faults', type: 'RunShellScript', script: SCRIPT, timeoutSeconds: 10, terminationMode: 'ProcessTree' },
      targets: { instanceIds: targets },
      requestedBy: { kind: 'cli' },
    });

    // Assess: the targets set aside are in the manifest with their reasons, the rest were sent once.
    expect(manifest.targets.sort()).toEqual(targets);
    expect(manifest.skipped.map((s) => `${s.instanceId} ${s.reason}`).sort()).toEqual(['i-inst000004 ClientNotRunning', 'i-inst000006 InstanceNotRunning', `${MISSING} InstanceNotExists`]);
    expect(manifest.invocations).toHaveLength(1);

    const summary = await summaryOf(pc.store, manifest.runId);
    expectExactSummary(summary, new Map(Object.entries(EXPECTED).map(([id, e]) => [id, e.status])));
    expect(Object.fromEntries(summary.instances.map((i) => [i.instanceId, { status: i.status, errorCode: i.errorCode, statusClass: i.statusClass }]))).toEqual(EXPECTED);
    expect(summary.counts.byClass).toEqual({ success: 2, failed: 3, stopped: 0, skipped: 3 });
    expect(summary.status).toBe('PartialFailed');
    expect(summary.instances.find((i) => i.instanceId === SLOW)!.outputTail).toBe('waiting\n');

    // Only the instances that could run did, each once; the late agent refused before running.
    expect([...executedInstances(pc.cloud.ecs)].sort()).toEqual(['i-inst000000', 'i-inst000001', 'i-inst000002', SLOW]);
    expectEachExecutedOnce(pc.cloud.ecs);

    // ProcessTree: the script and both children it left in the background are gone.
    const pids = (await readFile(path.join(sandboxRoot, SLOW, 'root', 'pids'), 'utf8')).trim().split('\n').map(Number);
    spawned.push(...pids);
    expect(pids).toHaveLength(3);
    await waitUntil(() => pids.every((p) => !isAlive(p)), 5_000, 'the timed-out script and its children to be gone');
  }, 60_000);

  it('an instance stopped between targeting and sending costs only itself, not the others of its call', async () => {
    // Prepare: RunCommand refuses a whole call that names a Stopped instance (InvalidInstance.NotMatch).
    const STOPPING = 'i-inst000001';
    pc = await startPipelineCloud(FLEET, {
      ecs: { timeScale: 20 },
      log: (line) => {
        if (line.startsWith('[ecs] DescribeCloudAssistantStatus 200')) pc!.cloud.ecs.fleet.get(STOPPING)!.status = 'Stopped';
      },
    });
    const targets = ['i-inst000000', STOPPING, 'i-inst000002'];

    // Act
    const manifest = await pc.run({
      command: { name: 'stopping', type: 'RunShellScript', script: SCRIPT, timeoutSeconds: 10 },
      targets: { instanceIds: targets },
      requestedBy: { kind: 'cli' },
    });

    // Assess
    expect(pc.cloud.ecs.calls.RunCommand).toBe(2);
    expect(manifest.skipped).toEqual([{ instanceId: STOPPING, reason: 'InstanceNotRunning' }]);
    const summary = await summaryOf(pc.store, manifest.runId);
    expectExactSummary(summary, new Map<string, InstanceStatus>([['i-inst000000', 'Success'], [STOPPING, 'Aborted'], ['i-inst000002', 'Failed']]));
    expect(summary.instances.find((i) => i.instanceId === STOPPING)!.errorCode).toBe('InstanceNotRunning');
    expect([...executedInstances(pc.cloud.ecs)].sort()).toEqual(['i-inst000000', 'i-inst000002']);
    expectEachExecutedOnce(pc.cloud.ecs);
  }, 60_000);
});
