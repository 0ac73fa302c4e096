/** summary.md: the run at a glance, for chat and for people reading the bucket. */
import type { RunSummary, SummaryInstance } from './summary.ts';

function ms(value: number | null): string {
  if (value === null) return '–';
  return value < 1000 ? `${value} ms` : value < 120_000 ? `${(value / 1000).toFixed(1)} s` : `${(value / 60_000).toFixed(1)} min`;
}

function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ⏎ ');
}

function lastLine(i: SummaryInstance): string {
  const lines = i.outputTail.trimEnd().split('\n');
  const line = lines.at(-1) ?? '';
  return cell(line.length > 80 ? `…${line.slice(-79)}` : line);
}

export function renderMarkdown(s: RunSummary): string {
  const { byClass } = s.counts;
  const rows = s.instances.map(
    (i) => `| ${i.instanceId} | ${i.status} | ${i.statusClass === 'skipped' ? '–' : i.exitCode} | ${cell(i.errorCode) || ' '} | ${ms(i.durationMs)} | ${lastLine(i)} |`,
  );
  return [
    `# Run ${s.runId}: ${s.command.name} — ${s.status}`,
    '',
    `${s.counts.total} instances: **${byClass.success} succeeded**, **${byClass.failed} failed**, ${byClass.stopped} stopped, ${byClass.skipped} not run.`,
    `Requested by ${s.requestedBy.user ?? s.requestedBy.kind} at ${s.createdAt}.`,
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
