import { describe, expect, it } from 'vitest';
import { fanOutPlanSchema } from '../../shared/runs/fan-out.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
import { nothingToRetry, retryInstances, retryRunSpec } from '../../shared/runs/retry-spec.ts';
import { runSpecSchema } from '../../shared/runs/run-spec.ts';
import { parseSummaryJson, SummaryBuilder, summaryJson } from '../../shared/runs/summary.ts';
import { renderHtml } from '../../shared/runs/render-html.ts';
import { renderMarkdown } from '../../shared/runs/render-markdown.ts';

const RUN = 'r-20261123t101500-1a2b3c';
const manifest = runManifestSchema.parse({
  version: 1,
  runId: RUN,
  createdAt: '2026-11-23T10:15:00.000Z',
  requestedBy: { kind: 'chat', user: 'slack:U1' },
  command: { name: 'deploy', type: 'RunShellScript', timeoutSeconds: 60 },
  targets: ['i-ok', 'i-fail', 'i-time', 'i-abort', 'i-term', 'i-away', 'i-cancel'],
  skipped: [{ instanceId: 'i-away', reason: 'InstanceNotRunning' }, { instanceId: 'i-cancel', reason: 'StopRequested' }],
  output: { mode: 'fetch' },
});

function result(instanceId: string, status: InstanceResult['status'], exitCode = 0): InstanceResult {
  return { version: 1, runId: RUN, invokeId: 't-1', commandId: 'c-1', instanceId, status, exitCode, errorCode: '', errorInfo: '', output: '', outputBytes: 0, source: 'event' };
}

function summary() {
  const b = new SummaryBuilder(manifest);
  for (const r of [result('i-ok', 'Success'), result('i-fail', 'Failed', 3), result('i-time', 'Timeout'), result('i-abort', 'Aborted'), result('i-term', 'Terminated')]) b.add(r);
  return b.build();
}

const plan = fanOutPlanSchema.parse({
  version: 1,
  runId: RUN,
  command: {
    name: 'deploy',
    type: 'RunShellScript',
    script: 'echo "$p_version"',
    timeoutSeconds: 60,
    parameters: { p_version: 'MS4y' },
    secretParameters: ['p_token'],
    sealedSecrets: 'c2VhbGVkLWJ5LXRoZS1jaGF0b3BzLWtleQ==',
  },
  batches: [['i-ok', 'i-fail', 'i-time', 'i-abort', 'i-term']],
  maxConcurrency: 2,
  maxErrors: 1,
});

describe('Function: retryInstances', () => {
  it('failed: the instances whose results were Failed, Timeout, Error, Invalid or Aborted — not those never sent or stopped', () => {
    expect(retryInstances(summary(), 'failed')).toEqual(['i-abort', 'i-fail', 'i-time']);
  });

  it('not-run: those set aside and those a stop cancelled before they were sent', () => {
    expect(retryInstances(summary(), 'not-run')).toEqual(['i-away', 'i-cancel']);
  });

  it('all: every instance of the run', () => {
    expect(retryInstances(summary(), 'all')).toEqual(['i-abort', 'i-away', 'i-cancel', 'i-fail', 'i-ok', 'i-term', 'i-time']);
  });

  it('none of a kind: the refusal says so', () => {
    const b = new SummaryBuilder(runManifestSchema.parse({ ...manifest, targets: ['i-ok'], skipped: [] }));
    b.add(result('i-ok', 'Success'));
    expect(retryInstances(b.build(), 'failed')).toEqual([]);
    expect(nothingToRetry(RUN, 'failed')).toBe(`${RUN} has no failed instances to retry`);
    expect(nothingToRetry(RUN, 'all')).toBe(`${RUN} has no instances to retry`);
  });
});

describe('Function: retryRunSpec', () => {
  it('is the plan\'s command as it was sent — parameters, secret values still sealed, timeout — on exactly the instances, with retryOf', () => {
    const spec = retryRunSpec(plan, ['i-fail', 'i-time'], { requestedBy: { kind: 'chat', user: 'slack:U2' }, replyTo: { platform: 'webhook', callbackUrl: 'https://example.com/cb' } });
    expect(spec.command).toEqual(plan.command);
    expect(spec.command.sealedSecrets).toBe('c2VhbGVkLWJ5LXRoZS1jaGF0b3BzLWtleQ==');
    expect(spec.targets).toEqual({ instanceIds: ['i-fail', 'i-time'] });
    expect(spec.maxConcurrency).toBe(2);
    expect(spec.maxErrors).toBe(1);
    expect(spec.retryOf).toBe(RUN);
    expect(spec.requestedBy).toEqual({ kind: 'chat', user: 'slack:U2' });
    expect(runSpecSchema.parse(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
  });

  it('refuses nothing to run on, as any RunSpec does', () => {
    expect(() => retryRunSpec(plan, [], { requestedBy: { kind: 'chat' } })).toThrow(/at least one instance/);
  });
});

describe('A summary\'s retry links', () => {
  it('a retry\'s summary says what it retries; the run\'s lists its retries, and reads back in the order it was built in', () => {
    const retry = new SummaryBuilder(runManifestSchema.parse({ ...manifest, runId: 'r-20261123t102000-4d5e6f', retryOf: RUN, targets: ['i-fail'], skipped: [] }));
    retry.add({ ...result('i-fail', 'Success'), runId: 'r-20261123t102000-4d5e6f' });
    const built = retry.build();
    expect(built.retryOf).toBe(RUN);
    expect(renderMarkdown(built)).toContain(`A retry of run \`${RUN}\`.`);
    expect(renderHtml(built)).toContain(`a retry of run <span class="retry-of">${RUN}</span>`);

    const original = summary();
    expect(original.retryOf).toBeNull();
    expect(original.retries).toEqual([]);
    const text = summaryJson(original);
    // Read back and written again: the same bytes, and with retries added, the keys in build()'s order.
    expect(summaryJson(parseSummaryJson(text))).toBe(text);
    const linked = { ...parseSummaryJson(text), retries: ['r-20261123t102000-4d5e6f'] };
    expect(Object.keys(JSON.parse(summaryJson(linked)))).toEqual(Object.keys(JSON.parse(text)));
    expect(renderHtml(linked)).toContain('retried as run <span class="retries">r-20261123t102000-4d5e6f</span>');
    expect(renderMarkdown(linked)).toContain('Retried as run `r-20261123t102000-4d5e6f`.');
    // A summary from before retries reads back with none.
    const old = JSON.parse(text) as Record<string, unknown>;
    delete old.retryOf;
    delete old.retries;
    expect(parseSummaryJson(JSON.stringify(old))).toMatchObject({ retryOf: null, retries: [] });
  });
});
