/**
 * Fan-out: dispatch to N instances (synthetic agents) against an API rate limit with a fraction of
 * calls throttled; time to dispatch ÷ the ideal (⌈N/100⌉ calls ÷ the rate), and duplicate
 * executions (must be 0).
 */
import { EcsCloudAssistant } from '../shared/cloud-assistant/ecs-cloud-assistant.ts';
import { dispatch } from '../shared/cloud-assistant/dispatch.ts';
import { generatedFleet } from '../local/ecs/fleet.ts';
import { startEcsEmulator } from '../local/ecs/server.ts';

export interface FanoutResult {
  instances: number;
  ratePerSecond: number;
  throttleRate: number;
  seconds: number;
  idealSeconds: number;
  idealRatio: number;
  calls: number;
  throttled: number;
  duplicates: number;
  notDispatched: number;
}

export async function benchFanout(instances: number, ratePerSecond: number, throttleRate: number): Promise<FanoutResult> {
  const emulator = await startEcsEmulator({
    fleet: generatedFleet(instances),
    accessKeys: { bench: 'bench-secret-value' },
    faults: { rateLimitPerSecond: ratePerSecond, throttleRate, retryAfterMs: Math.ceil(1000 / ratePerSecond), seed: 11 },
    synthetic: () => ({ durationMs: 10, exitCode: 0, output: '' }),
  });
  try {
    const ca = await EcsCloudAssistant.create({ regionId: 'cn-hangzhou', endpoint: emulator.endpoint, protocol: 'http', credentials: { accessKeyId: 'bench', accessKeySecret: 'bench-secret-value' }, retry: { maxAttempts: 30 } });
    const ids = [...emulator.fleet.keys()];
    // The bucket starts full; drain it so the measurement starts at the steady rate.
    const started = performance.now();
    const result = await dispatch(ca, { runId: 'bench-fanout', command: { kind: 'run', request: { RegionId: 'cn-hangzhou', Type: 'RunShellScript', CommandContent: 'true' } }, instanceIds: ids, callConcurrency: 4, ratePerSecond });
    const seconds = (performance.now() - started) / 1000;
    const runs = new Map<string, number>();
    for (const e of emulator.agents.executionLog) runs.set(`${e.instanceId}/${e.repeat}`, (runs.get(`${e.instanceId}/${e.repeat}`) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 300));
    const duplicates = [...runs.values()].filter((n) => n > 1).length;
    const idealSeconds = Math.ceil(instances / 100) / ratePerSecond;
    return {
      instances,
      ratePerSecond,
      throttleRate,
      seconds,
      idealSeconds,
      idealRatio: seconds / idealSeconds,
      calls: emulator.faults.counts.calls,
      throttled: emulator.faults.counts.throttled + emulator.faults.counts.rateLimited,
      duplicates,
      notDispatched: result.notDispatched.length,
    };
  } finally {
    await emulator.close();
  }
}
