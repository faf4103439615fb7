/** The summary `cpiwatch rebuild` prints: what was removed, re-seeded and reset, and what comes next. Pure. */
import type { RebuildReport } from './rebuild.js';

const n = (x: number) => x.toLocaleString('en-US');

export function formatReport(r: RebuildReport): string {
  const would = r.dryRun ? 'would be ' : '';
  const lines: string[] = [];
  lines.push(`${r.dryRun ? 'dry run (nothing changed): ' : ''}rebuild of the state under "${r.prefix}" from ${r.from} (input ${r.topics.input}, ops ${r.topics.ops}) in ${(r.elapsedMs / 1000).toFixed(1)} s`);
  const m = r.marker.before;
  lines.push(`  state marker before: ${m === null ? 'none (the state was lost)' : m.rebuilding ? `an unfinished rebuild from ${m.rebuilding.from}, started ${m.rebuilding.started}` : `present (state in use since ${m.created})`}`);
  const x = r.removed;
  lines.push(`  ${would}removed: ${n(x.partitionKeys)} owner partition key(s), ${n(x.frontier)} frontier, ${n(x.offers)} ledger decision(s), ${n(x.histories)} contact histor${x.histories === 1 ? 'y' : 'ies'}, ${n(x.budgets)} budget counter(s), ${n(x.journals)} publish journal(s)`);
  lines.push(`  kept: ${n(x.emails)} e-mail delivery state(s)${x.other > 0 ? `, ${n(x.other)} other key(s) under {${r.prefix}:d}` : ''}`);
  const s = r.seeded;
  lines.push(`  decisions re-seeded as published: ${n(s.offered + s.suppressed)} (${n(s.offered)} offers, ${n(s.suppressed)} suppressions; ${n(s.known)} read again: counted once)`);
  for (const t of r.read) lines.push(`    from ${t.topic}: ${n(t.records)} record(s)${t.oldest !== null ? `, the oldest published ${new Date(t.oldest).toISOString()}` : ''}`);
  for (const g of r.offsets) {
    lines.push(`  offsets of ${g.group} on ${g.topic}${r.dryRun ? ' (to be set)' : ''}:`);
    for (const p of g.partitions) lines.push(`    partition ${p.partition}: ${p.before === null ? 'none' : n(p.before)} -> ${n(p.after)}`);
  }
  if (!r.topics.opsExists) lines.push(`  ${r.topics.ops} does not exist yet: the processor creates it`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  lines.push(r.dryRun
    ? '  run it without --dry-run to rebuild'
    : `  state marker written. Start the processors (cpiwatch run): they replay ${n(r.replay)} input record(s) (cpiwatch_consumer_lag shows the progress); offers already published are not sent again`);
  return lines.join('\n');
}
