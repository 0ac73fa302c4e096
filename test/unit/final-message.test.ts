/**
 * The final chat reply (shared/chatops/messages.ts): counts, the first failures by name with their
 * last output line, the distinct outputs, the tags the run was started on, the report link —
 * and whatever instances print shows as text on every platform: no link, image, tag, autolinked
 * address or mention can start in it, in the text (DingTalk renders that as Markdown too) or in
 * the Markdown.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { finalMessage } from '../../shared/chatops/messages.ts';
import { chatLiteral } from '../../shared/runs/chat-text.ts';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
import { SummaryBuilder, type RunSummary } from '../../shared/runs/summary.ts';

const REPORT = 'https://chat.example/reports/r-20261123t100000-final1?expires=1&sig=x';

function result(instanceId: string, status: InstanceResult['status'], exitCode: number, output: string): InstanceResult {
  return {
    version: 1, runId: 'r-20261123t100000-final1', invokeId: 't-1', commandId: 'c-1', instanceId, status, exitCode, errorCode: status === 'Failed' ? 'ExitCodeNonzero' : '', errorInfo: '',
    startTime: '2026-11-23T10:00:01Z', finishTime: '2026-11-23T10:00:01Z', output, outputBytes: Buffer.byteLength(output), source: 'event',
  };
}

/** The demo's web-healthcheck on env=demo: three web servers answer alike but for their names, the db fails, two are set aside. */
function demoSummary(dbOutput = 'db-1 is a database instance: no web server here\n'): RunSummary {
  const ids = ['i-1', 'i-2', 'i-3', 'i-4', 'i-5', 'i-6'];
  const manifest = runManifestSchema.parse({
    version: 1, runId: 'r-20261123t100000-final1', createdAt: '2026-11-23T10:00:00.000Z', requestedBy: { kind: 'chat', user: 'webhook:demo-ci' },
    command: { name: 'web-healthcheck', type: 'RunShellScript', timeoutSeconds: 60, group: { patterns: [{ regex: '^\\S+?(?=:? )', as: '<name>' }] } },
    targets: ids, targetTags: { env: 'demo' },
    instanceNames: { 'i-1': 'web-1', 'i-2': 'web-2', 'i-3': 'db-1', 'i-4': 'batch-1', 'i-5': 'legacy-1', 'i-6': 'edge-1' },
    skipped: [{ instanceId: 'i-5', reason: 'InstanceNotRunning' }, { instanceId: 'i-6', reason: 'ClientNotRunning' }],
    output: { mode: 'fetch' },
  });
  const b = new SummaryBuilder(manifest);
  b.add(result('i-1', 'Success', 0, 'web-1: web ok\n'));
  b.add(result('i-2', 'Success', 0, 'web-2: web ok\n'));
  b.add(result('i-3', 'Failed', 3, dbOutput));
  b.add(result('i-4', 'Success', 0, 'batch-1: web ok\n'));
  return b.build();
}

describe('Function: finalMessage', () => {
  it('names the failures and their last line, lists the distinct outputs, says the tags, links the report', () => {
    const m = finalMessage(demoSummary(), REPORT);
    expect(m.text.split('\n')).toEqual([
      'web-healthcheck r-20261123t100000-final1: PartialFailed — 3 succeeded, 1 failed, 0 stopped, 2 not run',
      'db-1 (i-3) Failed (ExitCodeNonzero): `db-1 is a database instance: no web server here`',
      'legacy-1 (i-5) Aborted (InstanceNotRunning)',
      'edge-1 (i-6) Aborted (ClientNotRunning)',
      // The masks' own <name> is text too: a break keeps it from being read as a tag.
      '4 distinct outputs: 1 × `<\u200bname> is a database instance: no web server here` (Failed, exit 3), 1 × no output (Aborted, ClientNotRunning), 1 × no output (Aborted, InstanceNotRunning), 3 × `<\u200bname>: web ok`',
      'Targets: the instances tagged env=demo',
      `Report: ${REPORT}`,
    ]);
    expect(m.markdown!.split('\n')).toEqual([
      '**web-healthcheck r-20261123t100000-final1: PartialFailed — 3 succeeded, 1 failed, 0 stopped, 2 not run**',
      '- db-1 (i-3) Failed (ExitCodeNonzero): `db-1 is a database instance: no web server here`',
      '- legacy-1 (i-5) Aborted (InstanceNotRunning)',
      '- edge-1 (i-6) Aborted (ClientNotRunning)',
      '',
      m.text.split('\n')[4],
      '',
      'Targets: the instances tagged env=demo',
      '',
      `[Report](${REPORT})`,
    ]);
    expect(m.link).toEqual({ title: 'Report', url: REPORT });
  });

  it('reads as before for a summary from before groups, names and tags', () => {
    const s = demoSummary();
    const old: RunSummary = { ...s, groups: [], targetTags: null, instances: s.instances.map((i) => ({ ...i, name: '', group: null })) };
    expect(finalMessage(old, REPORT).text.split('\n')).toEqual([
      'web-healthcheck r-20261123t100000-final1: PartialFailed — 3 succeeded, 1 failed, 0 stopped, 2 not run',
      'i-3 Failed (ExitCodeNonzero): `db-1 is a database instance: no web server here`',
      'i-5 Aborted (InstanceNotRunning)',
      'i-6 Aborted (ClientNotRunning)',
      `Report: ${REPORT}`,
    ]);
  });

  /** What must not stand in chat text from an instance: where a link, image, tag, autolink, address or mention would begin. */
  function expectInert(text: string, what: string): void {
    expect(text, what).not.toMatch(/\]\(|<(?!\u200b)|:\/\/|@(?!\u200b)|\.(?=[\p{L}\p{N}])/u);
  }

  const ATTACKS = [
    '[click me](https://evil.example/x)',
    '![pixel](https://evil.example/track.png)',
    '<img src=x onerror=alert(1)>',
    '<font color=red>urgent</font> <at id=all></at>',
    '<https://evil.example>',
    'visit www.evil.example or evil.example/login',
    'mail ops@evil.example',
    '`code` ``and more``',
    'bidi \u202eelif\u202c and zero\u200bwidth',
  ];

  it('shows what instances print as text: in a code span, no backquote or line break of theirs, nothing that starts a link, image, tag or address', () => {
    for (const attack of ATTACKS) {
      const m = finalMessage(demoSummary(`first line\n${attack}\n`), REPORT);
      for (const [form, body] of [['text', m.text], ['markdown', m.markdown!]] as const) {
        const failure = body.split('\n').find((l) => l.includes('(i-3) Failed'))!;
        const span = /: `([^`]*)`$/.exec(failure);
        expect(span, `${form}: ${attack}`).not.toBeNull();
        expectInert(span![1]!, `${form}: ${attack}`);
        // Only the invisible breaks were added: it reads as the instance printed it.
        expect(span![1]!.replace(/\u200b/g, ''), attack).toBe(attack.replace(/[\u200b-\u200f\u2028-\u202e]+/g, ' ').replace(/`/g, "'"));
        const groups = body.split('\n').find((l) => l.includes('distinct outputs'))!;
        for (const [, headline] of groups.matchAll(/`([^`]*)`/g)) expectInert(headline!, `${form} group: ${attack}`);
      }
    }
  });

  it('for any last line of output: one line in the reply, its code span closed, nothing in it that starts a link', () => {
    const interesting = fc.constantFrom('[', ']', '(', ')', '<', '>', '!', '@', ':', '/', '.', 'w', 'a', '1', '`', ' ', '\r', '\u2028', '\u202e', '😀');
    fc.assert(
      fc.property(fc.string({ unit: interesting, minLength: 1, maxLength: 120 }), (line) => {
        const m = finalMessage(demoSummary(`${line}\n`), REPORT);
        const lines = m.text.split('\n');
        expect(lines).toHaveLength(7);
        const span = /: `([^`]*)`$/.exec(lines[1]!);
        if (span) expectInert(span[1]!, line);
        else expect(lines[1]).toBe('db-1 (i-3) Failed (ExitCodeNonzero)');
      }),
      { numRuns: 500, seed: 15 },
    );
  });

  it('breaks nothing that is plain text', () => {
    expect(chatLiteral('disk full at /var: 97% used')).toBe('disk full at /var: 97% used');
    expect(chatLiteral('see https://x.example').replace(/\u200b/g, '')).toBe('see https://x.example');
  });
});
