/** What fleetrun says in chat: plain text and Markdown of the same content, failures first. */
import type { ChatMessage } from '../chat/types.ts';
import type { RunManifest } from '../runs/manifest.ts';
import type { RunSummary } from '../runs/summary.ts';

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

/** The final reply: overall status, counts, the first failures with their last output line, the report. */
export function finalMessage(summary: RunSummary, reportUrl: string): ChatMessage {
  const c = summary.counts.byClass;
  const head = `${summary.command.name} ${summary.runId}: ${summary.status} — ${c.success} succeeded, ${c.failed} failed, ${c.stopped} stopped, ${c.skipped} not run`;
  const failures = summary.instances.filter((i) => i.statusClass === 'failed' || i.statusClass === 'skipped' || i.statusClass === 'stopped').slice(0, 5);
  const lines = failures.map((i) => {
    const last = i.outputTail.trimEnd().split('\n').at(-1)?.slice(-100) ?? '';
    return `${i.instanceId} ${i.status}${i.errorCode ? ` (${i.errorCode})` : ''}${last ? `: ${last}` : ''}`;
  });
  const more = summary.counts.total - c.success - failures.length > 0 && failures.length === 5 ? [`… and more in the report`] : [];
  const text = [head, ...lines, ...more, `Report: ${reportUrl}`].join('\n');
  const markdown = [`**${head}**`, ...lines.map((l) => `- ${l}`), ...more, `[Report](${reportUrl})`].join('\n');
  return { text, markdown, link: { title: 'Report', url: reportUrl } };
}
