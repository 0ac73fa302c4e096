/**
 * The polling baseline's API calls, measured on a short, time-scaled run: bench/poller.ts (RunCommand
 * per ≤100 instances, then DescribeInvocations with IncludeOutput per InvokeId every interval,
 * following NextToken) against the local Cloud Assistant, with its calls counted where they leave
 * the poller. A poll is a call without a NextToken; what a poll costs per invocation is then
 * calls ÷ polls, whatever the page sizes the API gives. The event pipeline is off in this cloud
 * (every TaskCompleted event dropped): the baseline is what users run without fleetrun.
 */
import type { CloudAssistant } from '../../shared/cloud-assistant/port.ts';
import { fleetOf, REGION, startPipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';
import { pollRun } from '../poller.ts';

export interface PollingSample {
  instances: number;
  /** RunCommand calls: one per ≤100 instances. */
  invocations: number;
  polls: number;
  describeInvocationsCalls: number;
  callsPerPollPerInvocation: number;
  /** Mean wall time of one RunCommand call. */
  runCommandSeconds: number;
  scriptMs: number;
  pollMs: number;
}

export interface PollingMeasureOptions {
  /** Each synthetic script's duration. */
  scriptMs?: number;
  /** The poll interval (a time-scaled 5 s). */
  pollMs?: number;
}

/** The assistant the poller gets: the same calls, counted. */
function counted(assistant: CloudAssistant, tally: { calls: number; polls: number; runCommands: number; runCommandMs: number }): CloudAssistant {
  return new Proxy(assistant, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'describeInvocations') {
        return (request: Parameters<CloudAssistant['describeInvocations']>[0]) => {
          tally.calls++;
          if (!request.NextToken) tally.polls++;
          return target.describeInvocations(request);
        };
      }
      if (prop === 'runCommand') {
        return async (request: Parameters<CloudAssistant['runCommand']>[0]) => {
          const started = performance.now();
          try {
            return await target.runCommand(request);
          } finally {
            tally.runCommands++;
            tally.runCommandMs += performance.now() - started;
          }
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export async function measurePolling(instances: number, options: PollingMeasureOptions = {}): Promise<PollingSample> {
  const scriptMs = options.scriptMs ?? 2000;
  const pollMs = options.pollMs ?? 250;
  const pc = await startPipelineCloud(fleetOf('poll', [{ name: 'poll', count: instances }]), {
    chaos: { dropRate: 1 },
    ecs: { synthetic: ({ instanceId }) => ({ durationMs: scriptMs, exitCode: 0, output: `checked ${instanceId}: ok\n` }) },
  });
  try {
    const tally = { calls: 0, polls: 0, runCommands: 0, runCommandMs: 0 };
    await pollRun(
      { runId: 'r-20261202t000000-cost00', name: 'cost', script: 'echo ok', timeoutSeconds: 600, instanceIds: [...pc.cloud.ecs.fleet.keys()], intervalMs: pollMs },
      { assistant: counted(pc.assistant, tally), store: pc.store, regionId: REGION },
    );
    return {
      instances,
      invocations: tally.runCommands,
      polls: tally.polls,
      describeInvocationsCalls: tally.calls,
      callsPerPollPerInvocation: tally.calls / tally.polls,
      runCommandSeconds: tally.runCommandMs / tally.runCommands / 1000,
      scriptMs,
      pollMs,
    };
  } finally {
    await pc.close();
  }
}
