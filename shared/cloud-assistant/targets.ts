/**
 * Turns "these ids" or "instances with these tags" into the instances a command can run on now,
 * and the ones it cannot, with the reason. One instance that is not Running would fail a whole
 * RunCommand call of 100 (seed 000), so they are set aside before any command is sent.
 */
import type { CloudAssistant } from './port.ts';

export type Targets = { instanceIds: string[] } | { tags: Record<string, string> };

export type SkipReason = 'InstanceNotExists' | 'InstanceNotRunning' | 'ClientNotRunning';

export interface ResolvedTargets {
  runnable: string[];
  skipped: { instanceId: string; reason: SkipReason }[];
  /** The name of each instance found (runnable or set aside), as DescribeInstances gave it; instances without one are left out. resolveTargets always says. */
  names?: Record<string, string>;
}

/**
 * Characters of an instance name kept: ECS's own maximum (RunInstances' InstanceName: "2 to 128
 * characters"), so a name is never cut unless something other than ECS gave a longer one.
 */
export const INSTANCE_NAME_CHARS = 128;

function keptName(name: string): string {
  const points = Array.from(name);
  return points.length > INSTANCE_NAME_CHARS ? points.slice(0, INSTANCE_NAME_CHARS).join('') : name;
}

export async function resolveTargets(assistant: CloudAssistant, targets: Targets): Promise<ResolvedTargets> {
  const instances =
    'instanceIds' in targets ? await assistant.describeInstances({ instanceIds: targets.instanceIds }) : await assistant.describeInstances({ tags: targets.tags });
  const found = new Map(instances.map((i) => [i.instanceId, i]));
  const names: Record<string, string> = {};
  for (const i of instances) if (i.name !== '') names[i.instanceId] = keptName(i.name);
  const skipped: ResolvedTargets['skipped'] = [];
  if ('instanceIds' in targets) {
    for (const id of new Set(targets.instanceIds)) if (!found.has(id)) skipped.push({ instanceId: id, reason: 'InstanceNotExists' });
  }
  const running = instances.filter((i) => {
    if (i.status === 'Running') return true;
    skipped.push({ instanceId: i.instanceId, reason: 'InstanceNotRunning' });
    return false;
  });
  const agents = new Map((await assistant.describeAgentStatus(running.map((i) => i.instanceId))).map((a) => [a.instanceId, a]));
  const runnable: string[] = [];
  for (const i of running) {
    if (agents.get(i.instanceId)?.online) runnable.push(i.instanceId);
    else skipped.push({ instanceId: i.instanceId, reason: 'ClientNotRunning' });
  }
  return { runnable, skipped, names };
}
