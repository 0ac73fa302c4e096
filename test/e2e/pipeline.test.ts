/**
 * The event pipeline end to end on the local cloud: a run on a 20-instance fleet (successes,
 * failures, a timeout, a stopped instance) goes RunCommand → TaskCompleted events → task-events →
 * MNS → summarize → summary in OSS, with the functions of s.yaml in their own processes and the
 * official SDKs on every hop. Nothing polls: with outputs delivered to OSS the service is never
 * read, and without, only when an event says an instance finished.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealCommand } from '../../shared/runs/build-run-spec.ts';
import { storedResultOf } from '../../shared/pipeline/stored-results.ts';
import { runKeys } from '../../shared/runs/keys.ts';
import type { RunSummary } from '../../shared/runs/summary.ts';
import { startPipelineCloud, waitForObject, type PipelineCloud } from '../../local/cli/harness/pipeline-cloud.ts';

/** web-00..web-15 succeed; bad-00..bad-02 fail; slow-00 times out; down-00 is Stopped. */
const fleetYaml = `instances:\n${[
  ...Array.from({ length: 16 }, (_, i) => `  - { id: i-e2eweb${String(i).padStart(6, '0')}, name: web-${String(i).padStart(2, '0')}, tags: { env: e2e } }`),
  ...Array.from({ length: 3 }, (_, i) => `  - { id: i-e2ebad${String(i).padStart(6, '0')}, name: bad-${String(i).padStart(2, '0')}, tags: { env: e2e } }`),
  '  - { id: i-e2eslow00000, name: slow-00, tags: { env: e2e } }',
  '  - { id: i-e2edown00000, name: down-00, status: Stopped, tags: { env: e2e } }',
].join('\n')}\n`;

const SCRIPT = `
case "{{ACS::InstanceName}}" in
  bad-*) echo "disk almost full on {{ACS::InstanceName}}"; exit 2 ;;
  slow-*) echo "waiting forever"; sleep 30 ;;
  *) echo "ok {{ACS::InstanceName}} token={{token}}"; i=0; while [ $i -lt 3000 ]; do echo "line $i of a long output"; i=$((i+1)); done ;;
esac`;

describe.each([
  { mode: 'output delivered to OSS', outputBucket: true },
  { mode: 'output fetched with DescribeInvocationResults', outputBucket: false },
])('a 20-instance run, $mode', ({ outputBucket }) => {
  let pc: PipelineCloud;

  beforeAll(async () => {
    pc = await startPipelineCloud(fleetYaml, {
      // Timeout 10 s (the API's minimum) takes 2.5 s: long enough for 3,000 lines of output on a loaded machine.
      ecs: { timeScale: 4 },
      functionEnv: outputBucket ? { FLEETRUN_FETCH_WINDOW_MS: '100' } : { FLEETRUN_OUTPUT_BUCKET: '', FLEETRUN_FETCH_WINDOW_MS: '100' },
    });
  }, 60_000);

  afterAll(async () => pc?.close());

  it('ends in one exact summary in OSS, reading the service only when an event says to', async () => {
    const { store, cloud } = pc;
    const manifest = await pc.run(
      {
        // A run with secret parameters is never delivered to OSS (Cloud Assistant would store its
        // outputs unredacted), so the token is secret only where outputs are fetched anyway.
        // Secret values travel sealed, as the catalog sends them (build-run-spec.ts).
        command: sealCommand(
          { name: 'disk-check', type: 'RunShellScript', script: SCRIPT, timeoutSeconds: 10, parameters: { token: 's3cr3t-t0ken-value' }, secretParameters: outputBucket ? [] : ['token'], terminationMode: 'ProcessTree' },
          pc.cloud.sealKey,
        ),
        targets: { tags: { env: 'e2e' } },
        requestedBy: { kind: 'cli', user: 'e2e' },
      },
      { outputBucket },
    );
    expect(manifest.invocations).toHaveLength(1);
    expect(manifest.skipped).toEqual([{ instanceId: 'i-e2edown00000', reason: 'InstanceNotRunning' }]);

    const summary = JSON.parse((await waitForObject(store, runKeys.summaryJson(manifest.runId), 60_000)).toString()) as RunSummary;
    expect(summary.status).toBe('PartialFailed');
    expect(summary.counts.total).toBe(21);
    expect(summary.counts.byStatus).toEqual({ Failed: 3, Timeout: 1, Aborted: 1, Success: 16 });
    expect(summary.instances.slice(0, 5).map((i) => i.status)).toEqual(['Failed', 'Failed', 'Failed', 'Timeout', 'Aborted']);
    const bad = summary.instances.find((i) => i.instanceId === 'i-e2ebad000001')!;
    expect([bad.exitCode, bad.errorCode, bad.outputTail.trim()]).toEqual([2, 'ExitCodeNonzero', 'disk almost full on bad-01']);
    const ok = summary.instances.find((i) => i.instanceId === 'i-e2eweb000003')!;
    expect(ok.outputTail.trim().endsWith('line 2999 of a long output')).toBe(true);

    expect(manifest.output.mode).toBe(outputBucket ? 'oss' : 'fetch');
    // The secret parameter's value reached the script but appears in no object of the run.
    if (!outputBucket) {
      for await (const o of store.list(runKeys.prefix(manifest.runId))) {
        const text = (await store.get(o.key))!.toString();
        expect(text, o.key).not.toContain('s3cr3t-t0ken-value');
      }
    }
    const web0 = (await storedResultOf(store, manifest.runId, 'i-e2eweb000000'))!;
    expect(web0.outputBytes).toBeGreaterThan(64 * 1024);
    if (outputBucket) {
      // The whole output came from OSS: over 64 KB, so the message carried a tail and the bucket the rest.
      expect(web0.outputKey).toBe(runKeys.output(manifest.runId, 'i-e2eweb000000'));
      const full = (await store.get(web0.outputKey!))!.toString();
      expect(full.startsWith('ok web-00 token=s3cr3t-t0ken-value\n')).toBe(true);
      expect(full.trim().endsWith('line 2999 of a long output')).toBe(true);
    } else {
      // DescribeInvocationResults keeps the last 24 KB; the rest is counted, not shown.
      expect(web0.outputKey).toBeUndefined();
      expect(Buffer.byteLength(web0.output)).toBe(24 * 1024);
      expect(web0.output.trim().endsWith('line 2999 of a long output')).toBe(true);
    }
    expect((await store.get(runKeys.report(manifest.runId)))!.toString()).toContain('id="status-chart"');
    expect((await store.get(runKeys.summaryMarkdown(manifest.runId)))!.toString()).toContain('disk-check — PartialFailed');

    const reads = (cloud.ecs.calls.DescribeInvocations ?? 0) + (cloud.ecs.calls.DescribeInvocationResults ?? 0);
    // Delivered to OSS: no read at all. Fetched: one read when the first event comes and one per
    // fetch interval (5 s) after that while events keep coming — never the poller's read every 5 s
    // from the start. 20 results here finish within a second or two of each other.
    if (outputBucket) expect(reads).toBe(0);
    else expect(reads).toBeLessThanOrEqual(3);
    expect(cloud.ecs.calls.RunCommand).toBe(1);
  }, 90_000);
});
