/**
 * What fleetrun says in chat: plain text and Markdown of the same content, failures first. Text
 * from instances (and names, codes and tags, which fleetrun does not choose either) goes in through
 * chat-text.ts, so no platform shows it as a link, an image or a tag.
 */
import type { ChatMessage } from '../chat/types.ts';
import { chatCode, chatLiteral } from '../runs/chat-text.ts';
import type { RunManifest } from '../runs/manifest.ts';
import { outputGroupsLine } from '../runs/output-groups-line.ts';
import type { RunSummary, SummaryInstance } from '../runs/summary.ts';

export function startedMessage(runId: string, command: string, targets: string): ChatMessage {
  const text = `Run ${runId} started: ${command} on ${targets}. Progress will follow here.`;
  return { text, markdown: `Run \`${runId}\` started: **${command}** on ${targets}. Progress will follow here.` };
}

export function progressMessage(manifest: RunManifest, have: number, want: number): ChatMessage {
  const width = 20;
  const filled = want === 0 ? width : Math.round((have / want) * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  const text = `${manifest.command.name} ${manifest.runId}: ${have}/${want} instances finished ${bar}`;
  return { text, markdown: `**${manifest.command.name}** \`${manifest.runId}\`: ${have}/${want} finished \`${bar}\`` };
}

export function dispatchedMessage(manifest: RunManifest): ChatMessage {
  const skipped = manifest.skipped.length ? `; ${manifest.skipped.length} set aside (${[...new Set(manifest.skipped.map((s) => s.reason))].join(', ')})` : '';
  // What was sent, not what was targeted: the instances set aside are counted after it.
  const sent = manifest.invocations.reduce((n, i) => n + i.instanceIds.length, 0);
  const text = `${manifest.command.name} ${manifest.runId}: sent to ${sent} instance${sent === 1 ? '' : 's'} in ${manifest.invocations.length} call${manifest.invocations.length === 1 ? '' : 's'}${skipped}.`;
  return { text };
}

/** The answer to `stop` on a run that already finished: its final status and counts, and nothing is stopped. */
export function alreadyFinishedMessage(summary: RunSummary, reportUrl: string): ChatMessage {
  const c = summary.counts.byClass;
  const head = `${summary.command.name} ${summary.runId} already finished: ${summary.status} — ${c.success} succeeded, ${c.failed} failed, ${c.stopped} stopped, ${c.skipped} not run. Nothing to stop.`;
  return { text: `${head}\nReport: ${reportUrl}`, markdown: `**${head}**\n[Report](${reportUrl})`, link: { title: 'Report', url: reportUrl } };
}

/** Characters of a failure's last output line shown in the final reply (whole code points, its end kept). */
const LAST_LINE_CHARS = 100;

/** An instance as people know it: its name first, when it has one. */
function instanceLabel(i: Pick<SummaryInstance, 'instanceId' | 'name'>): string {
  return i.name ? `${chatLiteral(i.name)} (${chatLiteral(i.instanceId)})` : chatLiteral(i.instanceId);
}

function failureLine(i: SummaryInstance): string {
  const points = Array.from(i.outputTail.trimEnd().split('\n').at(-1) ?? '');
  const last = points.slice(-LAST_LINE_CHARS).join('').trim();
  return `${instanceLabel(i)} ${i.status}${i.errorCode ? ` (${chatLiteral(i.errorCode)})` : ''}${last ? `: ${chatCode(last)}` : ''}`;
}

/**
 * The final reply: overall status and counts, the first failures by name with their last output
 * line, the distinct outputs, the tags the run was started on, the report. The first line stays
 * the run's status and counts alone, as replies have always begun.
 */
export function finalMessage(summary: RunSummary, reportUrl: string): ChatMessage {
  const c = summary.counts.byClass;
  const head = `${summary.command.name} ${summary.runId}: ${summary.status} — ${c.success} succeeded, ${c.failed} failed, ${c.stopped} stopped, ${c.skipped} not run`;
  const failures = summary.instances.filter((i) => i.statusClass === 'failed' || i.statusClass === 'skipped' || i.statusClass === 'stopped').slice(0, 5);
  const lines = failures.map(failureLine);
  const more = summary.counts.total - c.success - failures.length > 0 && failures.length === 5 ? [`… and more in the report`] : [];
  const groups = outputGroupsLine(summary.groups);
  const tags = summary.targetTags ? `Targets: the instances tagged ${chatLiteral(Object.entries(summary.targetTags).map(([k, v]) => `${k}=${v}`).join(', '))}` : '';
  const after = [groups, tags].filter((l) => l !== '');
  const text = [head, ...lines, ...more, ...after, `Report: ${reportUrl}`].join('\n');
  const markdown = [`**${head}**`, ...lines.map((l) => `- ${l}`), ...more, ...(after.length ? ['', ...after.flatMap((l, n) => (n > 0 ? ['', l] : [l])), ''] : []), `[Report](${reportUrl})`].join('\n');
  return { text, markdown, link: { title: 'Report', url: reportUrl } };
}
