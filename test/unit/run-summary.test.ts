import { describe, expect, it } from 'vitest';
import { runManifestSchema, type RunManifest } from '../../shared/runs/manifest.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
import { GROUP_INSTANCE_IDS } from '../../shared/runs/output-groups.ts';
import { parseSummaryJson, SUMMARY_MIN_TAIL_CHARS, SUMMARY_TAIL_CHARS, SummaryBuilder, summaryJson, tailCharsFor } from '../../shared/runs/summary.ts';
import { renderHtml } from '../../shared/runs/render-html.ts';
import { renderMarkdown } from '../../shared/runs/render-markdown.ts';
import { formatDuration } from '../../shared/runs/duration.ts';
import { batchFromCommandName, commandNameFor, runIdFromCommandName } from '../../shared/runs/keys.ts';

const manifest: RunManifest = runManifestSchema.parse({
  version: 1,
  runId: 'r-20261123-abc123',
  createdAt: '2026-11-23T10:00:00.000Z',
  requestedBy: { kind: 'chat', user: 'alice' },
  command: { name: 'disk-check', type: 'RunShellScript', timeoutSeconds: 60 },
  targets: ['i-a', 'i-b', 'i-c', 'i-d', 'i-e'],
  skipped: [{ instanceId: 'i-e', reason: 'InstanceNotRunning' }],
  output: { mode: 'fetch' },
});

function result(instanceId: string, status: InstanceResult['status'], exitCode: number, seconds: number, output = `out of ${instanceId}\n`): InstanceResult {
  return {
    version: 1, runId: manifest.runId, invokeId: 't-1', commandId: 'c-1', instanceId, status, exitCode, errorCode: status === 'Failed' ? 'ExitCodeNonzero' : '', errorInfo: '',
    startTime: '2026-11-23T10:00:01Z', finishTime: new Date(Date.parse('2026-11-23T10:00:01Z') + seconds * 1000).toISOString().replace('.000Z', 'Z'),
    output, outputBytes: Buffer.byteLength(output), source: 'event',
  };
}

const results = [result('i-c', 'Success', 0, 2), result('i-a', 'Failed', 3, 5, '<script>alert(1)</script>\nboom\n'), result('i-b', 'Timeout', 1, 60), result('i-d', 'Success', 0, 1)];

describe('Class: SummaryBuilder', () => {
  it('counts, orders failures first and derives the overall status', () => {
    const b = new SummaryBuilder(manifest);
    for (const r of results) b.add(r);
    const s = b.build();
    expect(s.status).toBe('PartialFailed');
    expect(s.counts).toEqual({ total: 5, byClass: { success: 2, failed: 2, stopped: 0, skipped: 1 }, byStatus: { Failed: 1, Timeout: 1, Aborted: 1, Success: 2 } });
    expect(s.instances.map((i) => [i.instanceId, i.status])).toEqual([
      ['i-a', 'Failed'], ['i-b', 'Timeout'], ['i-e', 'Aborted'], ['i-c', 'Success'], ['i-d', 'Success'],
    ]);
    expect(s.instances.find((i) => i.instanceId === 'i-e')?.errorCode).toBe('InstanceNotRunning');
    expect(s.durations).toMatchObject({ p50Ms: 2000, p95Ms: 60_000, maxMs: 60_000 });
    expect(s.durations.histogram.reduce((n, b) => n + b.count, 0)).toBe(4);
  });

  it("derives a stopped run's status by docs/platform-facts.md §3.3, instances never sent counting as Cancelled (stopped)", () => {
    // Ten sent and finished, forty never sent because of the stop: the run.
    const ids = Array.from({ length: 50 }, (_, n) => `i-s${String(n).padStart(3, '0')}`);
    const stopped = (finished: InstanceResult['status'][]) => {
      const m = runManifestSchema.parse({ ...manifest, targets: ids, skipped: ids.slice(finished.length).map((instanceId) => ({ instanceId, reason: 'StopRequested' })) });
      const b = new SummaryBuilder(m);
      finished.forEach((status, n) => b.add({ ...result(ids[n]!, status, status === 'Success' ? 0 : 1, 1), runId: m.runId }));
      return b.build();
    };
    const tenSucceeded = stopped(Array(10).fill('Success'));
    // "only success and stopped (at least one success) → Success": the rule as documented.
    expect(tenSucceeded.status).toBe('Success');
    expect(tenSucceeded.counts.byClass).toEqual({ success: 10, failed: 0, stopped: 40, skipped: 0 });
    expect(tenSucceeded.counts.byStatus).toEqual({ Success: 10, Cancelled: 40 });
    // "all stopped → Stopped"; "only failed and stopped → Failed"; "at least one success and one failed → PartialFailed".
    expect(stopped([]).status).toBe('Stopped');
    expect(stopped(['Terminated', 'Terminated']).status).toBe('Stopped');
    expect(stopped(['Failed', 'Terminated']).status).toBe('Failed');
    expect(stopped(['Success', 'Failed']).status).toBe('PartialFailed');
  });

  it('gives the same bytes whatever the arrival order, and ignores duplicates', () => {
    const forward = new SummaryBuilder(manifest);
    for (const r of results) forward.add(r);
    const backward = new SummaryBuilder(manifest);
    for (const r of [...results].reverse()) backward.add(r);
    backward.add(results[0]!);
    expect(summaryJson(backward.build())).toBe(summaryJson(forward.build()));
  });

  it('keeps only the tail of long outputs', () => {
    const b = new SummaryBuilder(manifest);
    b.add(result('i-a', 'Success', 0, 1, 'x'.repeat(10_000) + 'END'));
    const tail = b.build().instances.find((i) => i.instanceId === 'i-a')!.outputTail;
    expect(tail).toHaveLength(SUMMARY_TAIL_CHARS);
    expect(tail.endsWith('END')).toBe(true);
  });

  it('shares one output budget across a large run: tails shrink past 1,000 instances, never below the floor', () => {
    expect([tailCharsFor(1), tailCharsFor(1000), tailCharsFor(2000), tailCharsFor(10_000), tailCharsFor(100_000)]).toEqual([
      SUMMARY_TAIL_CHARS, SUMMARY_TAIL_CHARS, 1000, SUMMARY_MIN_TAIL_CHARS, SUMMARY_MIN_TAIL_CHARS,
    ]);
    const ids = Array.from({ length: 10_000 }, (_, n) => `i-${String(n).padStart(5, '0')}`);
    const big = new SummaryBuilder(runManifestSchema.parse({ ...manifest, targets: ids, skipped: [] }));
    big.add(result('i-00042', 'Success', 0, 1, 'y'.repeat(5000) + 'END'));
    const tail = big.build().instances.find((i) => i.instanceId === 'i-00042')!.outputTail;
    expect(tail).toHaveLength(SUMMARY_MIN_TAIL_CHARS);
    expect(tail.endsWith('END')).toBe(true);
  });
});

describe('Class: SummaryBuilder, output groups', () => {
  // A tag run of a command that masks numbers: i-a and i-c print the same but for a number.
  const grouped = runManifestSchema.parse({
    ...manifest,
    command: { ...manifest.command, group: { mask: ['numbers'] } },
    targetTags: { env: 'demo' },
    instanceNames: { 'i-a': 'web-1', 'i-b': 'web-2', 'i-e': 'old-1' },
  });
  const groupedResults = [
    result('i-a', 'Success', 0, 1, 'used 41%\n'),
    result('i-b', 'Failed', 1, 1, 'disk full\n'),
    result('i-c', 'Success', 0, 1, 'used 97%  \n'),
    result('i-d', 'Failed', 1, 1, 'disk full'),
  ];
  const build = (order: InstanceResult[], m = grouped) => {
    const b = new SummaryBuilder({ ...m, runId: m.runId });
    for (const r of order) b.add({ ...r, runId: m.runId });
    return b.build();
  };

  it('groups every instance, the never-sent among them, by the rules the run started with: failures first, then by size', () => {
    const s = build(groupedResults);
    expect(s.groups.map((g) => [g.status, g.exitCode, g.errorCode, g.output, g.count, g.instanceIds])).toEqual([
      ['Failed', 1, 'ExitCodeNonzero', 'disk full', 2, ['i-b', 'i-d']],
      ['Aborted', 0, 'InstanceNotRunning', '', 1, ['i-e']],
      ['Success', 0, '', 'used <n>%', 2, ['i-a', 'i-c']],
    ]);
    // Each instance links to its group, and carries its name; the run its tags.
    expect(s.instances.map((i) => [i.instanceId, i.name, i.group])).toEqual([
      ['i-b', 'web-2', 0], ['i-d', '', 0], ['i-e', 'old-1', 1], ['i-a', 'web-1', 2], ['i-c', '', 2],
    ]);
    expect(s.targetTags).toEqual({ env: 'demo' });
    // Without rules, outputs differing in a number are two answers.
    const exact = build(groupedResults, runManifestSchema.parse({ ...grouped, command: manifest.command }));
    expect(exact.groups.map((g) => g.output)).toEqual(['disk full', '', 'used 41%', 'used 97%']);
    expect(build(groupedResults, manifest).targetTags).toBeNull();
  });

  it('writes the same summary.json bytes whatever the order, duplicates ignored, and reads them back as they were', () => {
    const forward = summaryJson(build(groupedResults));
    const backward = summaryJson(build([...groupedResults].reverse().concat(groupedResults[0]!, { ...groupedResults[1]!, output: 'another answer' })));
    expect(backward).toBe(forward);
    // Two summarizers that read the same results in different orders write the same object.
    expect(parseSummaryJson(forward)).toEqual(build(groupedResults));
  });

  it('keeps the first instances of a big group and its exact count', () => {
    const ids = Array.from({ length: 120 }, (_, n) => `i-${String(n).padStart(4, '0')}`);
    const b = new SummaryBuilder(runManifestSchema.parse({ ...manifest, targets: ids, skipped: [] }));
    for (const id of [...ids].reverse()) b.add(result(id, 'Success', 0, 1, 'ok\n'));
    const [group] = b.build().groups;
    expect(group!.count).toBe(120);
    expect(group!.instanceIds).toEqual(ids.slice(0, GROUP_INSTANCE_IDS));
  });

  it('groups nothing when told not to (the benchmark\'s baseline)', () => {
    const b = new SummaryBuilder(grouped, { groups: false });
    for (const r of groupedResults) b.add(r);
    const s = b.build();
    expect(s.groups).toEqual([]);
    expect(s.instances.every((i) => i.group === null)).toBe(true);
  });

  it('reads a summary.json from before groups and names with none of them', () => {
    const old = JSON.parse(summaryJson(build(groupedResults))) as Record<string, unknown> & { instances: Record<string, unknown>[] };
    delete old['groups'];
    delete old['targetTags'];
    for (const i of old.instances) {
      delete i['name'];
      delete i['group'];
    }
    const read = parseSummaryJson(JSON.stringify(old));
    expect([read.groups, read.targetTags]).toEqual([[], null]);
    expect(read.instances.map((i) => [i.name, i.group])).toEqual(Array(5).fill(['', null]));
    expect(read.durations.histogram.at(-1)!.upToMs).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('Renderers', () => {
  const b = new SummaryBuilder(manifest);
  for (const r of results) b.add(r);
  const s = b.build();

  it('markdown names the run, counts and every instance', () => {
    const md = renderMarkdown(s);
    expect(md).toContain('# Run r-20261123-abc123: disk-check — PartialFailed');
    expect(md).toContain('**2 succeeded**, **2 failed**, 0 stopped, 1 not run');
    expect(md.indexOf('| i-a | Failed | 3 |')).toBeLessThan(md.indexOf('| i-c | Success | 0 |'));
  });

  it('html is self-contained, escapes output and puts failures first', () => {
    const html = renderHtml(s);
    expect(html).not.toMatch(/<script|<link|src=|href="http/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('id="status-chart"');
    expect(html).toContain('id="duration-chart"');
    expect(html.indexOf('i-a</td>')).toBeLessThan(html.indexOf('i-c</td>'));
  });
});

describe('Renderers: groups, names, tags and durations', () => {
  const m = runManifestSchema.parse({
    ...manifest,
    command: { ...manifest.command, group: { mask: ['numbers'] } },
    targetTags: { env: 'demo', role: 'web' },
    instanceNames: { 'i-a': 'web-1', 'i-b': 'web-2', 'i-c': 'web-3', 'i-e': 'old-1' },
  });
  const b = new SummaryBuilder(m);
  // i-a and i-b started and finished within the same second, as the API tells it.
  b.add(result('i-a', 'Failed', 3, 0, 'disk 97% full\n'));
  b.add(result('i-b', 'Failed', 3, 0, 'disk 99% full\n'));
  b.add(result('i-c', 'Success', 0, 3, 'ok\n'));
  b.add(result('i-d', 'Success', 0, 125, 'ok\n'));
  const s = b.build();

  it('formats whole seconds as whole seconds, and a duration within one second as "< 1 s", never "0 ms"', () => {
    expect([0, 1000, 3000, 1500, 59_000, 125_000, null].map(formatDuration)).toEqual(['< 1 s', '1 s', '3 s', '1.5 s', '59 s', '2.1 min', '–']);
    expect(formatDuration(350)).toBe('350 ms');
  });

  it('markdown: each distinct output once with its count, code and instances by name; names in rows; the tags; honest durations', () => {
    const md = renderMarkdown(s);
    expect(md).toContain('## 3 distinct outputs');
    const failed = md.indexOf('### 1. 2 × Failed, exit 3, ExitCodeNonzero');
    expect(failed).toBeGreaterThan(0);
    expect(md.slice(failed)).toMatch(/^### 1\. 2 × Failed, exit 3, ExitCodeNonzero\n\nInstances: web-1 \(i-a\), web-2 \(i-b\)\.\n\nOutput:\n\n```text\ndisk <n>% full\n```\n/);
    // A never-sent instance is among the failures (Aborted), before the successes.
    expect(md).toContain('### 2. 1 × Aborted, InstanceNotRunning\n\nInstance: old-1 (i-e).\n\n_No output._');
    expect(md).toContain('### 3. 2 × Success\n\nInstances: web-3 (i-c), i-d.\n\nOutput:\n\n```text\nok\n```');
    // The groups come before the per-instance table.
    expect(failed).toBeLessThan(md.indexOf('| instance | status |'));
    expect(md).toContain('| web-1 (i-a) | Failed | 3 | ExitCodeNonzero | < 1 s | disk 97% full |');
    expect(md).toContain('| web-3 (i-c) | Success | 0 |   | 3 s | ok |');
    expect(md).toContain('| i-d | Success | 0 |   | 2.1 min | ok |');
    expect(md).toContain('on the instances tagged env=demo, role=web.');
    expect(md).toContain('Duration: p50 < 1 s, p95 2.1 min, max 2.1 min.');
    expect(md).not.toContain('0 ms');
  });

  it('html: a groups section above the table, each output once in a <pre>, with its count, code and links to its instances and their rows', () => {
    const html = renderHtml(s);
    const section = /<section id="groups"[\s\S]*?<\/section>/.exec(html)![0];
    expect(html.indexOf('<section id="groups"')).toBeLessThan(html.indexOf('<table id="instances"'));
    expect(section).toContain('3 distinct outputs');
    expect(section.match(/<pre class="group-output">[^<]*<\/pre>/g)).toEqual(['<pre class="group-output">disk &lt;n&gt;% full</pre>', '<pre class="group-output">ok</pre>']);
    expect(section).toMatch(/<div class="group failed" id="group-0">.*<b>2 instances<\/b> · <span class="mono">exit 3 · ExitCodeNonzero<\/span> · <a href="#only-group-0">show these 2 in the table<\/a>/);
    expect(section).toContain('<a href="#row-i-a">web-1 <span class="mono">i-a</span></a>, <a href="#row-i-b">web-2 <span class="mono">i-b</span></a>');
    // A never-sent instance's group is grey as its row is, and a group of one links to its row only.
    expect(section).toMatch(/<div class="group skipped" id="group-1">(?:(?!only-group).)*<a href="#row-i-e">old-1 /);
    expect(section).toMatch(/<div class="group success" id="group-2">.*<a href="#only-group-2">show these 2 in the table<\/a>/);
    // Every link to a row or a group has its target on the page, and each narrowing link its rule.
    for (const [, target] of html.matchAll(/href="#([\w-]+)"/g)) expect(html, target).toMatch(new RegExp(`id="${target}"`));
    expect(html).toContain('#only-group-0:target~#instances tbody tr:not(.g0){display:none}');
    expect(html).toMatch(/<tr class="failed g0" id="row-i-a"><td class="mono"><span class="nm">web-1<\/span> i-a<\/td>/);
    expect(html).toContain('<td class="r">&lt; 1 s</td>');
    expect(html).toContain('on the instances tagged env=demo, role=web');
    expect(html).not.toContain('0 ms');
  });

  it('shows a summary from before groups and names as it did', () => {
    const old = { ...s, groups: [], targetTags: null, instances: s.instances.map((i) => ({ ...i, name: '', group: null })) };
    expect(renderHtml(old)).not.toContain('id="groups"');
    expect(renderMarkdown(old)).not.toContain('distinct output');
  });
});

describe('Function: runIdFromCommandName', () => {
  it('reads the run id fleetrun puts in command names, and nothing else', () => {
    expect(runIdFromCommandName(commandNameFor('r-20261123-abc123', 'disk-check'))).toBe('r-20261123-abc123');
    expect(runIdFromCommandName('hello-linux.sh')).toBeUndefined();
    expect(runIdFromCommandName('fleetrun:../../etc:x')).toBeUndefined();
  });

  it('carries the dispatch batch in the command name, and the run id is read the same with or without it', () => {
    const name = commandNameFor('r-20261123-abc123', 'disk-check', 42);
    expect(name).toBe('fleetrun:r-20261123-abc123:b42:disk-check');
    expect([runIdFromCommandName(name), batchFromCommandName(name)]).toEqual(['r-20261123-abc123', 42]);
    expect(batchFromCommandName(commandNameFor('r-20261123-abc123', 'disk-check'))).toBeUndefined();
    // A command whose own name looks like a batch is not taken for one when no batch was written.
    expect(batchFromCommandName('fleetrun:r-20261123-abc123:b7x:disk')).toBeUndefined();
    expect(commandNameFor('r-20261123-abc123', 'x'.repeat(200), 3)).toHaveLength(128);
  });
});
