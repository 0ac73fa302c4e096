/** summary.md: the run at a glance, for chat and for people reading the bucket. */
import { formatDuration as ms } from './duration.ts';
import { formatCount } from './output-groups-line.ts';
import type { OutputGroup } from './output-groups.ts';
import type { RunSummary, SummaryInstance } from './summary.ts';

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

/** An instance as a reader knows it: its name, then its id. */
function instanceLabel(id: string, name: string): string {
  return name === '' ? literal(id) : `${literal(name)} (${literal(id)})`;
}

/**
 * A fenced code block shows its text as it is (no Markdown, no HTML inside); its fence is longer
 * than any run of backquotes in the text, so no line of it can close the block early.
 */
function fenced(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${text}\n${fence}`;
}

function tagsOf(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/** Each distinct answer once: how many gave it, with what status, which instances, and the (normalised) output. */
function groupsSection(s: RunSummary): string[] {
  if (s.groups.length === 0) return [];
  const names = new Map(s.instances.map((i) => [i.instanceId, i.name]));
  const group = (g: OutputGroup, n: number): string[] => {
    const code = [g.status, ...(g.exitCode !== 0 ? [`exit ${g.exitCode}`] : []), ...(g.errorCode ? [literal(g.errorCode)] : [])].join(', ');
    const listed = g.instanceIds.map((id) => instanceLabel(id, names.get(id) ?? '')).join(', ');
    const more = g.count > g.instanceIds.length ? ` and ${formatCount(g.count - g.instanceIds.length)} more` : '';
    const cut = g.outputChars > g.output.length ? ` (its last ${formatCount(g.output.length)} of ${formatCount(g.outputChars)} characters)` : '';
    return [
      `### ${n + 1}. ${formatCount(g.count)} × ${code}`,
      '',
      `${g.count === 1 ? 'Instance' : 'Instances'}: ${listed}${more}.`,
      '',
      g.output === '' ? '_No output._' : `Output${cut}:\n\n${fenced(g.output)}`,
      '',
    ];
  };
  return [`## ${formatCount(s.groups.length)} distinct output${s.groups.length === 1 ? '' : 's'}`, '', ...s.groups.flatMap(group)];
}

export function renderMarkdown(s: RunSummary): string {
  const { byClass } = s.counts;
  const rows = s.instances.map(
    (i) => `| ${instanceLabel(i.instanceId, i.name)} | ${i.status} | ${i.statusClass === 'skipped' ? '–' : i.exitCode} | ${literal(i.errorCode) || ' '} | ${ms(i.durationMs)} | ${lastLine(i)} |`,
  );
  return [
    `# Run ${s.runId}: ${literal(s.command.name)} — ${s.status}`,
    '',
    `${s.counts.total} instances: **${byClass.success} succeeded**, **${byClass.failed} failed**, ${byClass.stopped} stopped, ${byClass.skipped} not run.`,
    `Requested by ${literal(s.requestedBy.user ?? s.requestedBy.kind)} at ${s.createdAt}${s.targetTags ? `, on the instances tagged ${literal(tagsOf(s.targetTags))}` : ''}.`,
    // Run ids are letters, digits and - only (keys.ts RUN_ID): a code span holds them as they are.
    ...(s.retryOf ? [`A retry of run \`${s.retryOf}\`.`] : []),
    ...(s.retries.length ? [`Retried as run ${s.retries.map((id) => `\`${id}\``).join(', ')}.`] : []),
    '',
    `| status | count |`,
    `| --- | ---: |`,
    ...Object.entries(s.counts.byStatus).map(([status, n]) => `| ${status} | ${n} |`),
    '',
    `Duration: p50 ${ms(s.durations.p50Ms)}, p95 ${ms(s.durations.p95Ms)}, max ${ms(s.durations.maxMs)}.`,
    '',
    ...groupsSection(s),
    `| instance | status | exit | error | duration | last line of output |`,
    `| --- | --- | ---: | --- | ---: | --- |`,
    ...rows,
    '',
  ].join('\n');
}
