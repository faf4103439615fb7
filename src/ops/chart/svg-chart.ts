/**
 * The one chart of cpiwatch: a CPI's value over time in one scope, as a self-contained SVG string
 * (no script, no external asset), with every rule's fire and clear lines on it, the moments rules
 * fired and cleared printed on the plot (readable without hovering, in print and screenshots), and
 * a timeline row under it of the offers and suppressions. Round y ticks and labelled times of the
 * chart's time zone (ticks.ts). Used by the backtest report and the live page.
 */
import { escapeHtml } from '../../actions/email/escape.js';
import { niceTicks, timeLabel, timeTicks } from './ticks.js';

export interface ChartSeries { label: string; color: string; points: readonly { at: number; value: number | null }[] }
export interface ChartLine { value: number; label: string; color: string; kind: 'fire' | 'clear' }
export interface ChartMark { at: number; kind: 'fire' | 'clear'; color: string; title: string }
export interface ChartEvent { at: number; kind: 'offer' | 'suppressed'; title: string }
export interface ChartShade { from: number; to: number; color: string }

export interface ChartSpec {
  label: string;
  /** Zone of the x axis labels (default UTC). */
  timeZone?: string;
  /** The time range shown (default: that of the points and events). */
  from?: number;
  to?: number;
  series: readonly ChartSeries[];
  lines: readonly ChartLine[];
  marks?: readonly ChartMark[];
  events?: readonly ChartEvent[];
  shades?: readonly ChartShade[];
  width?: number;
  height?: number;
}

const PAD = { left: 56, right: 12, top: 22, bottom: 44 };
const BAND = 14;
/** Below this many pixels apart two printed mark labels of a row would overlap: the later is left to the table. */
const LABEL_GAP = 40;

const f1 = (n: number) => n.toFixed(1);

export function renderChart(spec: ChartSpec): string {
  const W = spec.width ?? 880;
  const H = spec.height ?? 230;
  const zone = spec.timeZone ?? 'UTC';
  const times = [...spec.series.flatMap((s) => s.points.map((p) => p.at)), ...(spec.events ?? []).map((e) => e.at)];
  const t0 = spec.from ?? (times.length ? Math.min(...times) : 0);
  const t1 = Math.max(spec.to ?? (times.length ? Math.max(...times) : t0 + 1), t0 + 1);
  const values = [...spec.series.flatMap((s) => s.points.flatMap((p) => (p.value === null ? [] : [p.value]))), ...spec.lines.map((l) => l.value)];
  const { ticks, step } = niceTicks(values.length ? Math.min(...values) : 0, values.length ? Math.max(...values) : 1, 5);
  const lo = Math.min(ticks[0] ?? 0, ...(values.length ? values : [0]));
  const hi = Math.max(ticks.at(-1) ?? 1, ...(values.length ? values : [1]), lo + (step || 1));
  const plotBottom = H - PAD.bottom - BAND;
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - (v - lo) / (hi - lo)) * (plotBottom - PAD.top);
  const out: string[] = [];
  out.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(spec.label)}" font-size="11" font-family="system-ui,sans-serif">`);
  out.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${W - PAD.left - PAD.right}" height="${f1(plotBottom - PAD.top)}" fill="#fafbfc" stroke="#dde2ea"/>`);
  for (const s of spec.shades ?? []) {
    const a = x(Math.max(t0, s.from));
    out.push(`<rect class="episode" x="${f1(a)}" y="${PAD.top}" width="${f1(Math.max(1, x(Math.min(t1, s.to)) - a))}" height="${f1(plotBottom - PAD.top)}" fill="${s.color}" fill-opacity="0.08"/>`);
  }
  for (const v of ticks) {
    if (v < lo || v > hi) continue;
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${f1(y(v))}" y2="${f1(y(v))}" stroke="#eceff4"/><text class="ytick" x="${PAD.left - 6}" y="${f1(y(v) + 4)}" text-anchor="end" fill="#4a5566">${escapeHtml(String(v))}</text>`);
  }
  for (const t of timeTicks(t0, t1, zone, Math.max(2, Math.floor((W - PAD.left - PAD.right) / 110)))) {
    out.push(`<line x1="${f1(x(t.at))}" x2="${f1(x(t.at))}" y1="${PAD.top}" y2="${plotBottom + BAND}" stroke="#eceff4"/><text class="xtick" x="${f1(x(t.at))}" y="${H - PAD.bottom + 14}" text-anchor="middle" fill="#4a5566">${escapeHtml(t.label)}</text>`);
  }
  out.push(`<text x="${W - PAD.right}" y="${H - 6}" text-anchor="end" fill="#6b7686">times in ${escapeHtml(zone)}</text>`);
  // the rules' lines, labelled at their right end; labels pushed apart so that none overlaps another
  let lastLabelY = -Infinity;
  for (const l of [...spec.lines].sort((a, b) => y(a.value) - y(b.value))) {
    const ly = y(l.value);
    const labelY = Math.max(ly - 3, lastLabelY + 12);
    lastLabelY = labelY;
    out.push(`<line class="rule-line ${l.kind}" x1="${PAD.left}" x2="${W - PAD.right}" y1="${f1(ly)}" y2="${f1(ly)}" stroke="${l.color}" stroke-dasharray="${l.kind === 'fire' ? '6 4' : '2 4'}"/><text x="${W - PAD.right - 2}" y="${f1(labelY)}" text-anchor="end" fill="${l.color}">${escapeHtml(l.label)}</text>`);
  }
  for (const s of spec.series) {
    let d = '';
    let open = false;
    // a step line: a value holds until the next evaluation (closes that would evaluate to the same
    // are skipped: stream-time/next-close.ts), and a point without a value ends it there
    for (const p of s.points) {
      if (open) d += `H${f1(x(p.at))}`;
      if (p.value === null) { open = false; continue; }
      d += open ? `V${f1(y(p.value))}` : `M${f1(x(p.at))},${f1(y(p.value))}`;
      open = true;
    }
    if (d) out.push(`<path class="value" d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"><title>${escapeHtml(s.label)}</title></path>`);
  }
  // fire and clear moments: a vertical line, and its local time printed (fires above the plot,
  // clears just inside its bottom) unless it would overlap the previous label of that row
  const lastX = { fire: -Infinity, clear: -Infinity };
  for (const m of [...(spec.marks ?? [])].sort((a, b) => a.at - b.at)) {
    const mx = x(m.at);
    out.push(`<g class="mark ${m.kind}"><line x1="${f1(mx)}" x2="${f1(mx)}" y1="${PAD.top}" y2="${f1(plotBottom)}" stroke="${m.color}" stroke-opacity="0.45"/><title>${escapeHtml(m.title)}</title>`);
    if (mx - lastX[m.kind] >= LABEL_GAP) {
      const ty = m.kind === 'fire' ? PAD.top - 6 : plotBottom - 4;
      // near the right edge the label ends at the line instead of starting there
      const right = mx > W - PAD.right - LABEL_GAP;
      out.push(`<text class="mark-label" x="${f1(right ? mx - 2 : mx + 2)}" y="${f1(ty)}"${right ? ' text-anchor="end"' : ''} fill="${m.color}">${m.kind === 'fire' ? '▲' : '▼'}${escapeHtml(timeLabel(m.at, zone))}</text>`);
      lastX[m.kind] = mx;
    }
    out.push('</g>');
  }
  // the timeline row of decisions: offers as green triangles, suppressions as grey crosses
  const by = plotBottom + BAND / 2 + 1;
  for (const e of spec.events ?? []) {
    const ex = f1(x(e.at));
    out.push(e.kind === 'offer'
      ? `<path class="offer-mark" d="M${ex},${f1(by - 5)}l4,8h-8z" fill="#16a34a"><title>${escapeHtml(e.title)}</title></path>`
      : `<path class="suppressed-mark" d="M${f1(Number(ex) - 3.5)},${f1(by - 3.5)}l7,7m0,-7l-7,7" stroke="#6b7686" stroke-width="1.5"><title>${escapeHtml(e.title)}</title></path>`);
  }
  out.push('</svg>');
  return out.join('\n');
}
