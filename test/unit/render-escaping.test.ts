/**
 * Instance output in summary.md and report.html is shown as text: it cannot break the Markdown
 * table, start Markdown (code, emphasis, links, images, autolinks, math) or HTML, in either file.
 * The Markdown is read the way GitHub-flavoured Markdown reads a table row: cells split at pipes
 * not escaped by a backslash, then `\|` unescaped, then CommonMark's backslash escapes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runManifestSchema } from '../../shared/runs/manifest.ts';
import { renderHtml } from '../../shared/runs/render-html.ts';
import { renderMarkdown } from '../../shared/runs/render-markdown.ts';
import type { InstanceResult } from '../../shared/runs/result.ts';
import { SummaryBuilder, type RunSummary } from '../../shared/runs/summary.ts';

const ESCAPABLE = /\\([!-/:-@[-`{-~])/g;

function summaryOf(output: string, opts: { errorCode?: string; user?: string } = {}): RunSummary {
  const manifest = runManifestSchema.parse({
    version: 1,
    runId: 'r-20261123-esc123',
    createdAt: '2026-11-23T10:00:00.000Z',
    requestedBy: { kind: 'chat', user: opts.user ?? 'webhook:alice' },
    command: { name: 'disk-check', type: 'RunShellScript', timeoutSeconds: 60 },
    targets: ['i-esc1'],
    output: { mode: 'fetch' },
  });
  const result: InstanceResult = {
    version: 1, runId: manifest.runId, invokeId: 't-1', commandId: 'c-1', instanceId: 'i-esc1', status: 'Failed', exitCode: 1,
    errorCode: opts.errorCode ?? 'ExitCodeNonzero', errorInfo: '', startTime: '2026-11-23T10:00:01Z', finishTime: '2026-11-23T10:00:02Z',
    output, outputBytes: Buffer.byteLength(output), source: 'event',
  };
  const b = new SummaryBuilder(manifest);
  b.add(result);
  return b.build();
}

/** A table row's cells as GFM's table extension reads them (cmark-gfm: a cell is escaped pairs or anything but `|`). */
function gfmCells(row: string): string[] {
  const parts: string[] = [];
  let rest = row.trim();
  if (rest.startsWith('|')) rest = rest.slice(1);
  while (rest.length > 0) {
    const m = /^(?:\\[\s\S]|[^|\\\r\n])*/.exec(rest)![0];
    parts.push(m);
    rest = rest.slice(m.length);
    if (rest.startsWith('|')) rest = rest.slice(1);
    else if (rest.length > 0) throw new Error(`the row does not stay one line: ${JSON.stringify(row)}`);
  }
  return parts.map((p) => p.replace(/\\\|/g, '|').trim());
}

/** What the reader sees of a cell's text. */
const shown = (text: string) => text.replace(ESCAPABLE, '$1');

/** Whatever is left of a cell once its escapes are taken out holds nothing that could start Markdown, HTML or a link. */
function expectInert(text: string): void {
  const bare = text.replace(ESCAPABLE, '');
  expect(bare, text).not.toMatch(/[`*_~[\]<&$@\r\n]/);
  expect(bare, text).not.toMatch(/:\/\/|www\./i);
}

function instanceRow(md: string): string[] {
  const row = md.split('\n').find((l) => l.startsWith('| i-esc1 |'));
  expect(row, md).toBeDefined();
  return gfmCells(row!);
}

const ATTACKS = [
  '| forged | Success | 0 | | 1 ms | all good |',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '[click me](https://evil.example/x)',
  '![pixel](https://evil.example/track.png)',
  '`code` and ``more``',
  '**bold** _em_ ~~gone~~',
  'mail ops@evil.example or visit www.evil.example or https://evil.example',
  '&lt;b&gt; &#60;i&#62; $x^2$',
  'a trailing backslash \\',
  'a\\|b and \\\\| and |\\',
  'line one\r\nline two\rline three',
];

describe('summary.md', () => {
  it('keeps each instance in one row of six cells and shows its output as text', () => {
    for (const attack of ATTACKS) {
      const md = renderMarkdown(summaryOf(`first line\n${attack}\n`, { errorCode: attack }));
      const cells = instanceRow(md);
      expect(cells, attack).toHaveLength(6);
      expect(cells.slice(0, 3), attack).toEqual(['i-esc1', 'Failed', '1']);
      const asShown = (text: string) => text.replace(/\r\n|\r|\n/g, ' ⏎ ');
      expectInert(cells[3]!);
      expect(shown(cells[3]!), attack).toBe(asShown(attack));
      // The last line of output: what follows its last \n.
      expectInert(cells[5]!);
      expect(shown(cells[5]!), attack).toBe(asShown(attack.split('\n').at(-1)!));
    }
  });

  it("shows each group's output once, in a fenced block no line of the output can close", () => {
    for (const attack of [...ATTACKS, '```\n# not a heading\n````', '~~~\n<b>x</b>']) {
      const md = renderMarkdown(summaryOf(`first line\n${attack}\n`, { errorCode: attack }));
      const lines = md.split('\n');
      const open = lines.findIndex((l) => /^`{3,}text$/.test(l));
      expect(open, attack).toBeGreaterThan(0);
      const fence = lines[open]!.slice(0, -'text'.length);
      // CommonMark: the block ends at the first line of at least as many backquotes and nothing else.
      const close = lines.findIndex((l, n) => n > open && new RegExp(`^ {0,3}${fence}\`*\\s*$`).test(l));
      expect(lines.slice(open + 1, close).join('\n'), attack).toBe(`first line\n${attack}`.split(/\r\n|\n/).map((l) => l.trimEnd()).join('\n'));
      // Its heading names the error code as text.
      const heading = lines.find((l) => l.startsWith('### 1. 1 × Failed, exit 1, '))!;
      expectInert(heading.slice('### 1. 1 × Failed, exit 1, '.length));
    }
  });

  it('shows the requester as text', () => {
    const md = renderMarkdown(summaryOf('ok\n', { user: 'webhook:[x](https://evil.example)<b>' }));
    const line = md.split('\n').find((l) => l.startsWith('Requested by '))!;
    expectInert(line.slice('Requested by '.length, line.lastIndexOf(' at ')));
    expect(shown(line)).toBe('Requested by webhook:[x](https://evil.example)<b> at 2026-11-23T10:00:00.000Z.');
  });

  it('for any single line of output up to 80 characters: one row, six cells, the line shown as it is', () => {
    const interesting = fc.constantFrom('|', '\\', '`', '*', '_', '~', '[', ']', '(', ')', '<', '>', '&', '#', '$', '@', '!', ':', '/', '.', 'w', 'W', 'a', ' ', '\r', '\t', '⏎', '😀');
    const line = fc.oneof(fc.string({ unit: interesting, maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 })).filter((s) => !s.includes('\n'));
    fc.assert(
      fc.property(line, (output) => {
        const cells = instanceRow(renderMarkdown(summaryOf(`${output}\n`)));
        expect(cells).toHaveLength(6);
        expectInert(cells[5]!);
        expect(shown(cells[5]!)).toBe(output.trimEnd().replace(/\r/g, ' ⏎ ').trim());
      }),
      { numRuns: 500, seed: 14 },
    );
  });

  it('cuts a long last line by characters, never inside one', () => {
    const cells = instanceRow(renderMarkdown(summaryOf(`${'😀'.repeat(100)}\n`)));
    expect(shown(cells[5]!)).toBe(`…${'😀'.repeat(79)}`);
  });
});

describe('report.html', () => {
  const PAGE_TAGS = /^<(!doctype|\/?(html|head|meta|title|style|body|header|h1|h2|span|div|main|svg|text|rect|table|thead|tbody|tr|th|td|details|summary|pre|section|a|b|i))[\s>]/;
  const decode = (html: string) => html.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);

  it('shows output, error code and requester as text: no element, attribute or link of theirs', () => {
    for (const attack of ATTACKS) {
      const html = renderHtml(summaryOf(`first line\n${attack}\n`, { errorCode: attack, user: `webhook:${attack}` }));
      const pre = /<pre>([\s\S]*?)<\/pre>/.exec(html)?.[1];
      expect(pre, attack).toBeDefined();
      expect(pre, attack).not.toMatch(/[<>"']/);
      expect(decode(pre!)).toBe(`first line\n${attack}`);
      // The group's output, once, as text too (normalised: each line without its trailing whitespace).
      const group = /<pre class="group-output">([\s\S]*?)<\/pre>/.exec(html)?.[1];
      expect(group, attack).not.toMatch(/[<>"']/);
      expect(decode(group!)).toBe(`first line\n${attack}`.split('\n').map((l) => l.trimEnd()).join('\n'));
      // Only the page's own markup: one <pre> per instance and per group, and every tag one the page
      // writes, without sources or handlers, and links only within the page.
      expect(html.match(/<pre>/g), attack).toHaveLength(1);
      expect(html.match(/<pre class="group-output">/g), attack).toHaveLength(1);
      for (const tag of html.match(/<[^>]*>/g)!) {
        expect(tag, attack).toMatch(PAGE_TAGS);
        expect(tag, attack).not.toMatch(/\son\w+=|src=/i);
        expect(tag.replace(/ href="#[\w-]+"/, ''), attack).not.toMatch(/href/i);
      }
    }
  });

  it('for any output: the <pre> holds it, and no < > " \' of it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }), (output) => {
        fc.pre(output.trimEnd().length > 0);
        const pre = /<pre>([\s\S]*?)<\/pre>/.exec(renderHtml(summaryOf(output)))![1]!;
        expect(pre).not.toMatch(/[<>"']/);
        expect(decode(pre)).toBe(output.trimEnd());
      }),
      { numRuns: 300, seed: 14 },
    );
  });
});
