/**
 * What trends cost: the recorded values of one series in one scope (windows/value-history.ts) for a
 * day and a week of 1-minute closes (heap after a full GC), the bytes of a persisted hour chunk, and
 * the time of a condition's evaluation at a close against a value a day earlier and against a
 * 7-day avg / median baseline (rules/conditions.ts). `node --expose-gc --import tsx bench/trend-micro.ts`
 */
import { conditionResult, type RuleInputs } from '../src/rules/conditions.js';
import type { CompiledCondition, CompiledCompare } from '../src/rules/compiled.js';
import { ValueHistory } from '../src/windows/value-history.js';
import type { WindowSnapshot } from '../src/windows/window-spec.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const MIN = 60_000;
const DAY = 1440 * MIN;
const SCOPES = Number(process.env.SCOPES ?? 1000);

function heapPerScope(points: number): number {
  gc!();
  const before = process.memoryUsage().heapUsed;
  const kept: ValueHistory[] = [];
  for (let s = 0; s < SCOPES; s++) {
    const h = new ValueHistory();
    for (let i = 0; i < points; i++) h.record(i * MIN, 1 + ((i * 7919 + s) % 1000) / 1000, 5 + (i % 20));
    h.takeDirty();
    kept.push(h);
  }
  gc!();
  const bytes = (process.memoryUsage().heapUsed - before) / SCOPES;
  if (kept.length !== SCOPES) throw new Error('kept');
  return bytes;
}

const day = heapPerScope(1440);
const week = heapPerScope(7 * 1440);
const h = new ValueHistory();
for (let i = 0; i < 7 * 1440; i++) h.record(i * MIN, 1 + (i % 1000) / 1000, 10);
const chunk = [...new ValueHistory().takeDirty()].length === 0 ? (() => { const x = new ValueHistory(); for (let i = 0; i < 60; i++) x.record(i * MIN, 1.23456789012, 17); return x.takeDirty().get(0)!.length; })() : 0;

const snapshot: WindowSnapshot = { cpi: 'c', at: 7 * DAY, count: 10, sum: 15, min: 1, max: 2, num: 0, den: 0, bins: {} };
const inputs: RuleInputs = { at: 7 * DAY, snapshot: () => snapshot, history: () => h };
const cond = (compare: CompiledCompare): CompiledCondition => ({
  cpi: { id: 'c', measure: { kind: 'value', event: 'e', field: 'f' }, groupBy: 'storeId', windowMs: 15 * MIN, resolutionMs: MIN, latenessMs: 0 },
  aggregate: 'avg', direction: 'above', threshold: 1.3, clear: 1.1, minSamples: 1, compare,
});
function perCall(c: CompiledCondition, n: number): number {
  for (let i = 0; i < 50; i++) conditionResult(c, inputs);
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) conditionResult(c, inputs);
  return Number(process.hrtime.bigint() - t) / n / 1000;
}
const offset = perCall(cond({ to: { kind: 'offset', offsetMs: DAY, name: 'sameTimeYesterday' }, as: 'ratio', minSamples: 5 }), 200_000);
const avg = perCall(cond({ to: { kind: 'baseline', periodMs: 7 * DAY, of: 'avg', name: '' }, as: 'ratio', minSamples: 5 }), 300);
const median = perCall(cond({ to: { kind: 'baseline', periodMs: 7 * DAY, of: 'median', name: '' }, as: 'ratio', minSamples: 5 }), 300);

console.log(JSON.stringify({
  scopes: SCOPES,
  heapPerScopeBytes: { day1440Points: Math.round(day), week10080Points: Math.round(week) },
  persistedHourChunkBytes: chunk,
  conditionAtCloseMicros: { sameTimeYesterday: +offset.toFixed(2), baseline7dAvg: +avg.toFixed(1), baseline7dMedian: +median.toFixed(1) },
}, null, 1));
