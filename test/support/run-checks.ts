/**
 * End-state checks the fault suite ends every test with: the run's summary accounts for each
 * target exactly once with the status it should have, and the fleet executed nothing twice.
 */
import { expect } from 'vitest';
import type { InstanceStatus } from '../../shared/cloud-assistant/statuses.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import type { RunSummary } from '../../shared/runs/summary.ts';
import type { ObjectStore } from '../../shared/store/port.ts';
import type { EcsEmulator } from '../../local/ecs/server.ts';
import { waitForObject } from '../../local/cli/harness/pipeline-cloud.ts';

export async function summaryOf(store: ObjectStore, runId: string, ms = 30_000): Promise<RunSummary> {
  return JSON.parse((await waitForObject(store, runKeys.summaryJson(runId), ms)).toString('utf8')) as RunSummary;
}

/** Every target once, each with its expected status, and counts that add up to the same. */
export function expectExactSummary(summary: RunSummary, expected: ReadonlyMap<string, InstanceStatus>): void {
  const ids = summary.instances.map((i) => i.instanceId);
  expect(new Set(ids).size, 'an instance appears twice in the summary').toBe(ids.length);
  expect(summary.counts.total).toBe(expected.size);
  expect(new Map(summary.instances.map((i) => [i.instanceId, i.status]))).toEqual(expected);
  const byStatus: Partial<Record<InstanceStatus, number>> = {};
  for (const status of expected.values()) byStatus[status] = (byStatus[status] ?? 0) + 1;
  expect(summary.counts.byStatus).toEqual(byStatus);
}

/**
 * No instance ran the command twice: one entry per instance in the emulator's execution log,
 * whatever the InvokeId (a re-sent command would carry a new one). For a cloud serving one run of
 * a one-time command.
 */
export function expectEachExecutedOnce(ecs: EcsEmulator): void {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const e of ecs.agents.executionLog) {
    if (seen.has(e.instanceId)) twice.push(e.instanceId);
    seen.add(e.instanceId);
  }
  expect(twice, 'instances that ran the command twice').toEqual([]);
}

/** The instance ids the fleet executed anything on. */
export function executedInstances(ecs: EcsEmulator): Set<string> {
  return new Set(ecs.agents.executionLog.map((e) => e.instanceId));
}
