/** The answer to `runs [N]`: recent runs newest first, one line each, with a report link where the report is still kept. */
import type { ChatMessage } from '../chat/types.ts';
import type { Targets } from '../cloud-assistant/targets.ts';
import type { RecentRun } from './recent-runs.ts';

/** Instance ids shown per run; the rest are counted. */
const IDS_SHOWN = 3;

export function targetsText(targets: Targets): string {
  if ('tags' in targets) return Object.entries(targets.tags).map(([k, v]) => `${k}=${v}`).join(' ');
  const ids = targets.instanceIds;
  return ids.length <= IDS_SHOWN ? ids.join(', ') : `${ids.slice(0, IDS_SHOWN).join(', ')} and ${ids.length - IDS_SHOWN} more`;
}

/** `2026-11-23 10:15 UTC`. */
function when(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** Where a run stands, in words. */
export function stateText(run: RecentRun): string {
  switch (run.state) {
    case 'finished': {
      const c = run.counts;
      const counts = c ? ` (${c.success} succeeded, ${c.failed} failed, ${c.stopped} stopped, ${c.skipped} not run)` : '';
      return `${run.status ?? 'finished'}${counts}${run.hasReport ? '' : ', report expired'}`;
    }
    case 'running':
      return 'running';
    case 'starting':
      return 'handed to dispatch, not sent yet';
    case 'refused':
      return 'refused at dispatch';
    case 'gone':
      return 'no longer in the bucket';
  }
}

/** Text for code spans: a backquote would end one. */
const code = (s: string) => s.replace(/`/g, "'");

export interface RunsListOptions {
  /** The report link of a run (the one `status` gives). */
  reportUrl: (runId: string) => string;
  /** The listing stopped at its bound of records opened, before it found as many runs as asked. */
  stoppedAtScan?: { scanned: number } | undefined;
}

export function runsListMessage(runs: readonly RecentRun[], o: RunsListOptions): ChatMessage {
  const bound = o.stoppedAtScan ? ` (looked at the last ${o.stoppedAtScan.scanned} runs; older ones were not searched)` : '';
  if (runs.length === 0) return { text: `No runs you may see${bound}.` };
  const head = `${runs.length === 1 ? 'The last run' : `The last ${runs.length} runs`} you may see, newest first${bound}:`;
  const text: string[] = [head];
  const markdown: string[] = [`**${head}**`];
  for (const run of runs) {
    const link = run.hasReport ? o.reportUrl(run.runId) : undefined;
    const line = `${run.runId} · ${run.command} on ${targetsText(run.targets)} · ${stateText(run)} · ${run.who.user ?? run.who.kind} · ${when(run.at)}`;
    text.push(link ? `${line}\n  Report: ${link}` : line);
    markdown.push(
      `- \`${run.runId}\` **${run.command}** on \`${code(targetsText(run.targets))}\` — ${stateText(run)} — ${code(run.who.user ?? run.who.kind)}, ${when(run.at)}${link ? ` — [Report](${link})` : ''}`,
    );
  }
  return { text: text.join('\n'), markdown: markdown.join('\n') };
}
