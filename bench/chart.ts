/**
 * bench/results/latest.svg from the figures of one `npm run bench`: each figure against its target
 * (how far past it, on a log scale: right of the line is met), and the events-vs-polling latencies.
 * Plain SVG, no chart library: two bar charts are a few rectangles.
 */
export interface ChartFigure {
  label: string;
  value: number;
  target: number;
  /** 'min': the figure must be at least the target; 'max': at most. */
  kind: 'min' | 'max';
  unit: string;
}

export interface ChartLatency {
  mode: string;
  p50Ms: number;
  p95Ms: number;
  readCalls: number;
}

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function fmt(v: number, unit: string): string {
  const n = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${n}${unit}`;
}

export function renderChart(figures: ChartFigure[], latencies: ChartLatency[], title: string): string {
  const W = 1000;
  const rowH = 30;
  const left = 340;
  const span = 420;
  // Margin = how many times past the target (>1 met); drawn on log2 from ¼× to 64×.
  const lo = -2;
  const hi = 6;
  const x = (margin: number) => left + ((Math.min(hi, Math.max(lo, Math.log2(margin))) - lo) / (hi - lo)) * span;
  const top = 70;
  const rows = figures.map((f, n) => {
    const margin = f.kind === 'min' ? f.value / f.target : f.target / f.value;
    const y = top + n * rowH;
    const met = margin >= 1;
    const x0 = x(1);
    const x1 = x(margin);
    return `<text x="${left - 10}" y="${y + 18}" class="lbl" text-anchor="end">${esc(f.label)}</text>
<rect x="${Math.min(x0, x1)}" y="${y + 6}" width="${Math.max(2, Math.abs(x1 - x0))}" height="16" rx="3" fill="${met ? '#1f9d55' : '#d64545'}"/>
<text x="${left + span + 10}" y="${y + 18}" class="num">${esc(fmt(f.value, f.unit))} (${f.kind === 'min' ? '≥' : '≤'} ${esc(fmt(f.target, f.unit))})</text>`;
  });
  const ticks = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64].map((m) => `<line x1="${x(m)}" x2="${x(m)}" y1="${top - 4}" y2="${top + figures.length * rowH}" stroke="${m === 1 ? '#1c2430' : '#e3e8ef'}" stroke-width="${m === 1 ? 2 : 1}"/><text x="${x(m)}" y="${top - 8}" class="tick">${m}×</text>`);

  const lTop = top + figures.length * rowH + 70;
  const maxMs = Math.max(1, ...latencies.map((l) => l.p95Ms));
  const lx = (ms: number) => left + (Math.log10(Math.max(1, ms)) / Math.log10(maxMs * 1.2)) * span;
  const lrows = latencies.map((l, n) => {
    const y = lTop + n * 40;
    return `<text x="${left - 10}" y="${y + 16}" class="lbl" text-anchor="end">${esc(l.mode)}</text><text x="${left - 10}" y="${y + 30}" class="sub" text-anchor="end">${l.readCalls} ECS read calls</text>
<rect x="${left}" y="${y + 4}" width="${Math.max(2, lx(l.p95Ms) - left)}" height="14" rx="3" fill="#bcd3f5"/><rect x="${left}" y="${y + 4}" width="${Math.max(2, lx(l.p50Ms) - left)}" height="14" rx="3" fill="#3b82f6"/>
<text x="${Math.max(lx(l.p95Ms), lx(l.p50Ms)) + 8}" y="${y + 16}" class="num">p50 ${esc(fmt(l.p50Ms, ' ms'))} · p95 ${esc(fmt(l.p95Ms, ' ms'))}</text>`;
  });
  const H = lTop + latencies.length * 40 + 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif">
<style>.lbl{font-size:13px;fill:#1c2430}.num{font-size:12px;fill:#37414f}.sub{font-size:11px;fill:#7a869a}.tick{font-size:11px;fill:#7a869a;text-anchor:middle}.h{font-size:16px;font-weight:600;fill:#1c2430}</style>
<rect width="${W}" height="${H}" fill="#ffffff"/>
<text x="20" y="28" class="h">${esc(title)}</text>
<text x="20" y="48" class="sub">Each figure against its target (log scale; right of the dark line: met)</text>
${ticks.join('\n')}
${rows.join('\n')}
<text x="20" y="${lTop - 24}" class="h">Finish → result in OSS, 200 instances (log scale)</text>
${lrows.join('\n')}
</svg>
`;
}
