/** summary.md: the run at a glance, for chat and for people reading the bucket. */
import type { RunSummary, SummaryInstance } from './summary.ts';

function ms(value: number | null): string {
  if (value === null) return '–';
  return value < 1000 ? `${value} ms` : value < 120_000 ? `${(value / 1000).toFixed(1)} s` : `${(value / 60_000).toFixed(1)} min`;
}

/**
 * What starts or ends something in GitHub-flavoured Markdown in the middle of a line: a table cell
 * (`|`), an escape, a code span, emphasis or strikethrough, a link, image or footnote (`[`), inline
 * HTML or an autolink (`<`), an entity reference, math, a bare e-mail address (`@`). CommonMark
 * makes any ASCII punctuation after a backslash literal, so each is written `\x`.
 */
const MARKDOWN_SPECIAL = /[\\|`*_~[\]<&$@]/g;

/**
 * Text that is not fleetrun's own (instance output, error codes, a requester's id) as it is,
 * never as Markdown or HTML. Line endings become ⏎ so a table row stays one line; `://` and
 * `www.` are escaped too because GFM turns bare web addresses into links.
 */
function literal(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, ' ⏎ ')
    .replace(MARKDOWN_SPECIAL, '\\$&')
    .replace(/:(?=\/\/)/g, '\\:')
    .replace(/(www)\./gi, '$1\\.');
}

function lastLine(i: SummaryInstance): string {
  const lines = i.outputTail.trimEnd().split('\n');
  // By code point, so that cutting never splits a character in two.
  const line = Array.from(lines.at(-1) ?? '');
  return literal(line.length > 80 ? `…${line.slice(-79).join('')}` : line.join(''));
}

export function renderMarkdown(s: RunSummary): string {
  const { byClass } = s.counts;
  const rows = s.instances.map(
    (i) => `| ${literal(i.instanceId)} | ${i.status} | ${i.statusClass === 'skipped' ? '–' : i.exitCode} | ${literal(i.errorCode) || ' '} | ${ms(i.durationMs)} | ${lastLine(i)} |`,
  );
  return [
    `# Run ${s.runId}: ${literal(s.command.name)} — ${s.status}`,
    '',
    `${s.counts.total} instances: **${byClass.success} succeeded**, **${byClass.failed} failed**, ${byClass.stopped} stopped, ${byClass.skipped} not run.`,
    `Requested by ${literal(s.requestedBy.user ?? s.requestedBy.kind)} at ${s.createdAt}.`,
    '',
    `| status | count |`,
    `| --- | ---: |`,
    ...Object.entries(s.counts.byStatus).map(([status, n]) => `| ${status} | ${n} |`),
    '',
    `Duration: p50 ${ms(s.durations.p50Ms)}, p95 ${ms(s.durations.p95Ms)}, max ${ms(s.durations.maxMs)}.`,
    '',
    `| instance | status | exit | error | duration | last line of output |`,
    `| --- | --- | ---: | --- | ---: | --- |`,
    ...rows,
    '',
  ].join('\n');
}
