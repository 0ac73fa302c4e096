/**
 * report.html: one self-contained page (no scripts, no external assets) a person would rather
 * look at than read — status bar and counts, a status chart, the duration distribution, and every
 * instance with its exit code, duration and output tail, failures first.
 */
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

function ms(value: number | null): string {
  if (value === null) return '–';
  return value < 1000 ? `${value} ms` : value < 120_000 ? `${(value / 1000).toFixed(1)} s` : `${(value / 60_000).toFixed(1)} min`;
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

function row(i: SummaryInstance): string {
  const out = i.outputTail.trimEnd();
  return `<tr class="${i.statusClass}"><td class="mono">${esc(i.instanceId)}</td><td><span class="pill" style="background:${COLORS[i.statusClass]}">${esc(i.status)}</span></td><td class="r mono">${i.statusClass === 'skipped' ? '–' : i.exitCode}</td><td class="mono">${esc(i.errorCode)}</td><td class="r">${ms(i.durationMs)}</td><td>${out ? `<details${i.statusClass === 'failed' ? ' open' : ''}><summary>${esc(out.split('\n').at(-1)!.slice(-90))}</summary><pre>${esc(out)}</pre></details>` : '<span class="muted">no output</span>'}${i.outputKey ? `<div class="muted">full output: ${esc(i.outputKey)}</div>` : ''}</td></tr>`;
}

export function renderHtml(s: RunSummary): string {
  const c = s.counts.byClass;
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
</style></head><body>
<header><h1>${esc(s.command.name)}<span class="status" style="background:${s.status === 'Success' ? COLORS.success : s.status === 'Stopped' ? COLORS.stopped : COLORS.failed}">${esc(s.status)}</span></h1>
<div class="sub">run ${esc(s.runId)} · ${esc(s.command.type)} · requested by ${esc(s.requestedBy.user ?? s.requestedBy.kind)} at ${esc(s.createdAt)}${s.lastFinish ? ` · last finished ${esc(s.lastFinish)}` : ''}</div></header>
<main>
<div class="tiles">${tile('instances', s.counts.total, 'running')}${tile('succeeded', c.success, 'success')}${tile('failed', c.failed, 'failed')}${tile('stopped', c.stopped, 'stopped')}${tile('not run', c.skipped, 'skipped')}</div>
${stackedBar(s)}
<div class="charts"><div class="card"><h2>Instances by status</h2>${statusChart(s)}</div>
<div class="card"><h2>Duration · p50 ${ms(s.durations.p50Ms)} · p95 ${ms(s.durations.p95Ms)} · max ${ms(s.durations.maxMs)}</h2>${durationChart(s)}</div></div>
<table id="instances"><thead><tr><th>instance</th><th>status</th><th>exit</th><th>error</th><th>duration</th><th>output (tail)</th></tr></thead><tbody>
${s.instances.map(row).join('\n')}
</tbody></table>
</main></body></html>
`;
}
