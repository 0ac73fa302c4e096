/**
 * report.html: one self-contained page (no scripts, no external assets) a person would rather
 * look at than read — status bar and counts, a status chart, the duration distribution, each
 * distinct output once with how many instances gave it, and every instance with its name, exit
 * code, duration and output tail, failures first.
 *
 * A group's "show its instances" link narrows the table to them without a script: it targets an
 * empty element just before the table, and a rule of the page's own style hides every row of
 * another group while that element is the :target. Only groups of more than one instance get one;
 * a single instance is linked to its row.
 */
import { statusClass } from '../cloud-assistant/statuses.ts';
import { formatDuration } from './duration.ts';
import { formatCount } from './output-groups-line.ts';
import type { OutputGroup } from './output-groups.ts';
import type { RunSummary, SummaryInstance } from './summary.ts';

const COLORS: Record<SummaryInstance['statusClass'], string> = {
  success: '#1f9d55',
  failed: '#d64545',
  stopped: '#c98a12',
  skipped: '#7a869a',
  running: '#3b82f6',
};

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A duration as the page shows it: "< 1 s" among them, so escaped. */
function ms(value: number | null): string {
  return esc(formatDuration(value));
}

function bound(upToMs: number): string {
  return Number.isFinite(upToMs) ? `≤ ${ms(upToMs)}` : 'longer';
}

/** Axis labels short enough for a 46 px column: 1s, 30s, 5m, 1h, >1h. */
function tick(upToMs: number): string {
  if (!Number.isFinite(upToMs)) return '>1h';
  return upToMs < 60_000 ? `${upToMs / 1000}s` : upToMs < 3_600_000 ? `${upToMs / 60_000}m` : `${upToMs / 3_600_000}h`;
}

/** A horizontal bar per status, in the order the table uses. */
function statusChart(s: RunSummary): string {
  const order = new Map<string, SummaryInstance['statusClass']>();
  for (const i of s.instances) if (!order.has(i.status)) order.set(i.status, i.statusClass);
  const entries = [...order.entries()].map(([status, cls]) => ({ status, cls, n: s.counts.byStatus[status as keyof typeof s.counts.byStatus] ?? 0 }));
  const max = Math.max(1, ...entries.map((e) => e.n));
  const rowH = 26;
  const bars = entries
    .map((e, n) => {
      const w = Math.max(2, Math.round((e.n / max) * 300));
      const y = n * rowH;
      return `<text x="0" y="${y + 17}" class="lbl">${esc(e.status)}</text><rect x="110" y="${y + 4}" width="${w}" height="18" rx="3" fill="${COLORS[e.cls]}"><title>${esc(e.status)}: ${e.n}</title></rect><text x="${116 + w}" y="${y + 17}" class="num">${e.n}</text>`;
    })
    .join('');
  return `<svg id="status-chart" role="img" aria-label="instances by status" width="460" height="${entries.length * rowH + 4}" viewBox="0 0 460 ${entries.length * rowH + 4}">${bars}</svg>`;
}

function durationChart(s: RunSummary): string {
  const buckets = s.durations.histogram;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const colW = 46;
  const h = 120;
  const cols = buckets
    .map((b, n) => {
      const bh = Math.round((b.count / max) * (h - 30));
      const x = n * colW;
      return `<rect x="${x + 6}" y="${h - 20 - bh}" width="${colW - 12}" height="${bh}" rx="2" fill="#3b82f6"><title>${bound(b.upToMs)}: ${b.count}</title></rect><text x="${x + colW / 2}" y="${h - 6}" class="tick">${tick(b.upToMs)}</text>${b.count ? `<text x="${x + colW / 2}" y="${h - 24 - bh}" class="tick">${b.count}</text>` : ''}`;
    })
    .join('');
  return `<svg id="duration-chart" role="img" aria-label="duration distribution" width="${buckets.length * colW}" height="${h}" viewBox="0 0 ${buckets.length * colW} ${h}">${cols}</svg>`;
}

function stackedBar(s: RunSummary): string {
  const total = Math.max(1, s.counts.total);
  const parts = (['failed', 'stopped', 'skipped', 'success'] as const)
    .filter((c) => s.counts.byClass[c] > 0)
    .map((c) => `<span class="seg" style="width:${((s.counts.byClass[c] / total) * 100).toFixed(2)}%;background:${COLORS[c]}" title="${c}: ${s.counts.byClass[c]}"></span>`)
    .join('');
  return `<div class="stack">${parts}</div>`;
}

/** The id of an instance's row: instance ids are letters, digits and hyphens, but the page escapes what it is given. */
function rowId(instanceId: string): string {
  return `row-${esc(instanceId)}`;
}

function row(i: SummaryInstance): string {
  const out = i.outputTail.trimEnd();
  const group = i.group === null ? '' : ` g${i.group}`;
  return `<tr class="${i.statusClass}${group}" id="${rowId(i.instanceId)}"><td class="mono">${i.name ? `<span class="nm">${esc(i.name)}</span> ` : ''}${esc(i.instanceId)}</td><td><span class="pill" style="background:${COLORS[i.statusClass]}">${esc(i.status)}</span></td><td class="r mono">${i.statusClass === 'skipped' ? '–' : i.exitCode}</td><td class="mono">${esc(i.errorCode)}</td><td class="r">${ms(i.durationMs)}</td><td>${out ? `<details${i.statusClass === 'failed' ? ' open' : ''}><summary>${esc(out.split('\n').at(-1)!.slice(-90))}</summary><pre>${esc(out)}</pre></details>` : '<span class="muted">no output</span>'}${i.outputKey ? `<div class="muted">full output: ${esc(i.outputKey)}</div>` : ''}</td><td class="r">${i.group === null ? '–' : `<a href="#group-${i.group}">${i.group + 1}</a>`}</td></tr>`;
}

function groupBlock(g: OutputGroup, n: number, cls: SummaryInstance['statusClass'], names: Map<string, string>): string {
  const code = [...(g.exitCode !== 0 ? [`exit ${g.exitCode}`] : []), ...(g.errorCode ? [esc(g.errorCode)] : [])].join(' · ');
  const members = g.instanceIds.map((id) => `<a href="#${rowId(id)}">${names.get(id) ? `${esc(names.get(id)!)} ` : ''}<span class="mono">${esc(id)}</span></a>`).join(', ');
  const more = g.count > g.instanceIds.length ? ` and ${formatCount(g.count - g.instanceIds.length)} more` : '';
  const narrow = g.count > 1 ? ` · <a href="#only-group-${n}">show these ${formatCount(g.count)} in the table</a>` : '';
  const cut = g.outputChars > g.output.length ? `<div class="muted">its last ${formatCount(g.output.length)} of ${formatCount(g.outputChars)} characters</div>` : '';
  const output = g.output === '' ? '<div class="muted">no output</div>' : `${cut}<pre class="group-output">${esc(g.output)}</pre>`;
  return `<div class="group ${cls}" id="group-${n}"><div class="ghead"><span class="gn">${n + 1}</span><span class="pill" style="background:${COLORS[cls]}">${esc(g.status)}</span> <b>${formatCount(g.count)} instance${g.count === 1 ? '' : 's'}</b>${code ? ` · <span class="mono">${code}</span>` : ''}${narrow}</div>${output}<div class="members">${members}${more}</div></div>`;
}

/** Each distinct output once, above the table; '' for a summary from before groups. */
function groupsSection(s: RunSummary): string {
  if (s.groups.length === 0) return '';
  const names = new Map(s.instances.map((i) => [i.instanceId, i.name]));
  // A group is coloured as its rows are: an instance never sent (Aborted with fleetrun's reason) is grey, not red.
  const classes = new Map<number, SummaryInstance['statusClass']>();
  for (const i of s.instances) if (i.group !== null && !classes.has(i.group)) classes.set(i.group, i.statusClass);
  const n = s.groups.length;
  const blocks = s.groups.map((g, k) => groupBlock(g, k, classes.get(k) ?? statusClass(g.status), names));
  return `<section id="groups" class="card"><h2>${formatCount(n)} distinct output${n === 1 ? '' : 's'} · failures first, then by count</h2>${blocks.join('\n')}</section>`;
}

/** The empty targets of the groups' "show these" links, and the rules that narrow the table to one group. */
function narrowing(s: RunSummary): { anchors: string; style: string } {
  const many = s.groups.map((g, n) => (g.count > 1 ? n : -1)).filter((n) => n >= 0);
  return {
    anchors: many.map((n) => `<i id="only-group-${n}" class="only"></i>`).join(''),
    style: many.map((n) => `#only-group-${n}:target~#instances tbody tr:not(.g${n}){display:none}#only-group-${n}:target~.shown-all{display:block}`).join('\n'),
  };
}

function tagsOf(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

export function renderHtml(s: RunSummary): string {
  const c = s.counts.byClass;
  const narrow = narrowing(s);
  const tile = (label: string, n: number, cls: SummaryInstance['statusClass']) => `<div class="tile"><div class="n" style="color:${COLORS[cls]}">${n}</div><div class="t">${label}</div></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(s.command.name)} · ${esc(s.runId)} · ${esc(s.status)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f7fa;color:#1c2430}
header{background:#1c2430;color:#fff;padding:20px 32px}header h1{margin:0;font-size:22px}header .sub{opacity:.75;margin-top:4px}
.status{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;margin-left:8px;font-size:14px;vertical-align:middle}
main{padding:24px 32px;max-width:1200px}
.tiles{display:flex;gap:12px;flex-wrap:wrap}.tile{background:#fff;border-radius:8px;padding:12px 18px;min-width:110px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.tile .n{font-size:28px;font-weight:700}.tile .t{color:#5b6675}
.stack{display:flex;height:14px;border-radius:7px;overflow:hidden;margin:16px 0;background:#e3e8ef}.seg{display:block;height:100%}
.charts{display:flex;gap:32px;flex-wrap:wrap;margin:8px 0 24px}.card{background:#fff;border-radius:8px;padding:14px 18px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card h2{font-size:15px;margin:0 0 10px}
svg .lbl{font-size:12px;fill:#1c2430}svg .num{font-size:12px;fill:#5b6675}svg .tick{font-size:10px;fill:#5b6675;text-anchor:middle}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:8px;overflow:hidden;box-shadow:0 1px 2px rgba(0,0,0,.08)}
th,td{padding:8px 10px;border-bottom:1px solid #e8ecf1;text-align:left;vertical-align:top}th{background:#eef2f7;font-weight:600}
td.r{text-align:right}.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
.pill{color:#fff;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600}
tr.failed{background:#fff5f5}pre{margin:6px 0 0;max-height:260px;overflow:auto;background:#0f1720;color:#d7e0ea;padding:8px;border-radius:6px;font-size:12px;white-space:pre-wrap}
details summary{cursor:pointer;font-family:ui-monospace,monospace;font-size:12px;color:#37414f}.muted{color:#8793a3;font-size:12px}
.nm{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-weight:600;font-size:14px;margin-right:4px}
#groups{margin:0 0 24px}.group{border-left:4px solid #7a869a;border-radius:6px;padding:10px 12px;margin:10px 0;background:#f8fafc}
.group.failed{border-color:#d64545;background:#fff5f5}.group.success{border-color:#1f9d55}.group.stopped{border-color:#c98a12}
.ghead{display:flex;gap:8px;align-items:center;flex-wrap:wrap}.gn{color:#8793a3;font-weight:600;min-width:18px}.members{margin-top:6px;font-size:12.5px}
a{color:#2563eb;text-decoration:none}a:hover{text-decoration:underline}.only{display:none}.shown-all{display:none;margin:0 0 8px}
${narrow.style}
</style></head><body>
<header><h1>${esc(s.command.name)}<span class="status" style="background:${s.status === 'Success' ? COLORS.success : s.status === 'Stopped' ? COLORS.stopped : COLORS.failed}">${esc(s.status)}</span></h1>
<div class="sub">run ${esc(s.runId)} · ${esc(s.command.type)}${s.targetTags ? ` · on the instances tagged ${esc(tagsOf(s.targetTags))}` : ''} · requested by ${esc(s.requestedBy.user ?? s.requestedBy.kind)} at ${esc(s.createdAt)}${s.lastFinish ? ` · last finished ${esc(s.lastFinish)}` : ''}${s.retryOf ? ` · a retry of run <span class="retry-of">${esc(s.retryOf)}</span>` : ''}${s.retries.length ? ` · retried as run <span class="retries">${s.retries.map(esc).join(', ')}</span>` : ''}</div></header>
<main>
<div class="tiles">${tile('instances', s.counts.total, 'running')}${tile('succeeded', c.success, 'success')}${tile('failed', c.failed, 'failed')}${tile('stopped', c.stopped, 'stopped')}${tile('not run', c.skipped, 'skipped')}</div>
${stackedBar(s)}
<div class="charts"><div class="card"><h2>Instances by status</h2>${statusChart(s)}</div>
<div class="card"><h2>Duration · p50 ${ms(s.durations.p50Ms)} · p95 ${ms(s.durations.p95Ms)} · max ${ms(s.durations.maxMs)}</h2>${durationChart(s)}</div></div>
${groupsSection(s)}
${narrow.anchors}<div class="shown-all">Showing one group's instances · <a href="#instances">show all</a></div>
<table id="instances"><thead><tr><th>instance</th><th>status</th><th>exit</th><th>error</th><th>duration</th><th>output (tail)</th><th>group</th></tr></thead><tbody>
${s.instances.map(row).join('\n')}
</tbody></table>
</main></body></html>
`;
}
