/**
 * Output groups in one line of chat text: "3 distinct outputs: 180 × `disk full` (Failed, exit 1),
 * 9,812 × `ok`, …". The same line serves the final reply's text and its Markdown: each headline is
 * in a code span and cannot become a link, image or tag on any platform (chat-text.ts). The
 * report's forms are the renderers', which take the groups themselves and `groupHeadline` for the
 * short label.
 */
import { chatDefused, chatLiteral, chatPlain } from './chat-text.ts';
import type { OutputGroup } from './output-groups.ts';

/** Groups the line names before it says how many more there are: a chat line, not the report. */
export const LINE_GROUPS_SHOWN = 5;
/** Characters of a group's headline shown in the line (whole code points; longer ones end in "…"). */
export const HEADLINE_CHARS = 60;

/** 9812 → "9,812": the same on every machine, whatever its locale. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function lines(group: Pick<OutputGroup, 'output' | 'outputChars'>): string[] {
  const all = group.output.split('\n');
  // A cut output starts mid-line: that fragment is not the line the script printed, unless it is all there is.
  if (group.outputChars > group.output.length && all.length > 1) all.shift();
  return all.map((l) => l.trim()).filter((l) => l !== '');
}

function shorten(line: string, chars: number, cutAtStart: boolean): string {
  // Control characters (a terminal's colour codes among them) would garble the chat line; a backquote would end its code span.
  const clean = chatPlain(line);
  const points = Array.from(clean);
  const cut = points.length > chars ? `${points.slice(0, chars - 1).join('')}…` : clean;
  return cutAtStart ? `…${cut}` : cut;
}

/**
 * The one line that stands for a group: its output's first non-empty line (or its last, `which:
 * 'last'`), cut to `chars` code points; '' when the group printed nothing.
 */
export function groupHeadline(group: Pick<OutputGroup, 'output' | 'outputChars'>, which: 'first' | 'last' = 'first', chars = HEADLINE_CHARS): string {
  const kept = lines(group);
  const line = which === 'first' ? kept[0] : kept.at(-1);
  if (line === undefined) return '';
  // The only line left is the fragment of a cut output.
  const fragment = group.outputChars > group.output.length && kept.length === 1 && !group.output.includes('\n');
  return shorten(line, chars, fragment);
}

function annotation(g: OutputGroup): string {
  if (g.status === 'Success' && g.exitCode === 0 && g.errorCode === '') return '';
  // ExitCodeNonzero says no more than the exit code does.
  const parts = [g.status, ...(g.exitCode !== 0 ? [`exit ${g.exitCode}`] : []), ...(g.errorCode && g.errorCode !== 'ExitCodeNonzero' ? [chatLiteral(g.errorCode)] : [])];
  return ` (${parts.join(', ')})`;
}

/**
 * The groups (in the order given: OutputGrouper.build's) as one line of plain text; '' when there
 * are none. Where two of the groups shown start with the same line, they are shown by their last
 * line instead, so different answers do not read alike.
 */
export function outputGroupsLine(groups: readonly OutputGroup[], shown = LINE_GROUPS_SHOWN): string {
  if (groups.length === 0) return '';
  const head = groups.slice(0, shown);
  const firsts = head.map((g) => groupHeadline(g, 'first'));
  const repeated = new Set(firsts.filter((h, n) => firsts.indexOf(h) !== n));
  const items = head.map((g, n) => {
    const headline = repeated.has(firsts[n]!) ? groupHeadline(g, 'last') : firsts[n]!;
    // Cut first, then defused: the invisible breaks do not count against the headline's length.
    return `${formatCount(g.count)} × ${headline === '' ? 'no output' : `\`${chatDefused(headline)}\``}${annotation(g)}`;
  });
  const rest = groups.length - head.length;
  if (rest > 0) items.push(`… and ${formatCount(rest)} more`);
  return `${formatCount(groups.length)} distinct output${groups.length === 1 ? '' : 's'}: ${items.join(', ')}`;
}
