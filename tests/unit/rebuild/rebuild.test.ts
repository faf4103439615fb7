// The pure parts of `cpiwatch rebuild`: --from, the keys it removes and keeps, the marker's
// "rebuilding" state, its warnings and its summary.
import { describe, expect, it } from 'vitest';
import { parseFrom, warningsOf, type RebuildReport } from '../../../src/rebuild/rebuild.js';
import { formatReport } from '../../../src/rebuild/summary.js';
import { RedisKeys } from '../../../src/store/redis/keys.js';
import { classifyDecisionKey, globPrefix } from '../../../src/store/redis/state-reset.js';
import { unusableReason } from '../../../src/store/redis/state-marker.js';

describe('--from', () => {
  it('is earliest or an RFC 3339 time', () => {
    expect(parseFrom('earliest')).toEqual({ earliest: true });
    expect(parseFrom('2026-11-23T18:00:00Z')).toEqual({ time: Date.UTC(2026, 10, 23, 18) });
    expect(parseFrom('2026-11-23T19:00:00+01:00')).toEqual({ time: Date.UTC(2026, 10, 23, 18) });
    expect(parseFrom('yesterday')).toMatch(/^--from must be "earliest" or an RFC 3339 time .* got "yesterday"/);
    expect(parseFrom('latest')).toMatch(/^--from must be/);
  });
});

describe('the keys a rebuild removes and keeps', () => {
  const keys = new RedisKeys('cpw');
  it('removes the ledger, histories, budgets and journals; keeps e-mail states and what it does not know', () => {
    const kinds = ['offer:abc', 'hist:C1', 'budget:r:storeId=S1:123', 'pub:cpw.ops:3', 'email:abc', 'future:x'].map((k) => classifyDecisionKey(keys, `${keys.decisions()}:${k}`));
    expect(kinds).toEqual([
      { count: 'offers', remove: true }, { count: 'histories', remove: true }, { count: 'budgets', remove: true }, { count: 'journals', remove: true },
      { count: 'emails', remove: false }, { count: 'other', remove: false },
    ]);
  });

  it('matches its own prefix only, glob characters in it taken literally', () => {
    expect(globPrefix('{cpw:d}:')).toBe('{cpw:d}:*');
    expect(globPrefix('{a*b?[c]\\:d}:')).toBe('{a\\*b\\?\\[c\\]\\\\:d}:*');
  });
});

describe('the state marker during a rebuild', () => {
  it('a "rebuilding" marker makes the state unusable, with what to do; any other is fine', () => {
    expect(unusableReason(null)).toBeNull();
    expect(unusableReason({ created: 'x', group: 'g.owners' })).toBeNull();
    expect(unusableReason({ created: 'x', group: 'g.owners', rebuilt: { from: 'earliest', at: 'y' } })).toBeNull();
    expect(unusableReason({ created: 'x', group: 'g.owners', rebuilding: { from: 'earliest', started: '2026-11-23T18:00:00.000Z' } }))
      .toBe('a rebuild of the state (cpiwatch rebuild --from earliest, started 2026-11-23T18:00:00.000Z) is in progress or was interrupted: stop the processors and run cpiwatch rebuild again');
  });
});

function report(over: Partial<RebuildReport> = {}): RebuildReport {
  return {
    dryRun: false, prefix: 'cpw', from: 'earliest', groups: { routing: 'g', owners: 'g.owners', email: 'g-email' },
    topics: { input: 'events', ops: 'g.ops', opsExists: true, offers: 'offers', decisions: 'decisions' },
    marker: { before: null },
    removed: { partitionKeys: 6, frontier: 1, offers: 0, histories: 0, budgets: 0, journals: 2, emails: 3, other: 0 },
    seeded: { offered: 40, suppressed: 7, known: 40 },
    read: [
      { topic: 'decisions', records: 47, skipped: {}, trimmed: [], oldest: Date.UTC(2026, 10, 23, 17) },
      { topic: 'offers', records: 40, skipped: {}, trimmed: [], oldest: Date.UTC(2026, 10, 23, 17) },
    ],
    offsets: [
      { group: 'g', topic: 'events', partitions: [{ partition: 0, before: 1200, after: 0 }, { partition: 1, before: null, after: 0 }] },
      { group: 'g.owners', topic: 'g.ops', partitions: [{ partition: 0, before: 900, after: 1500 }, { partition: 1, before: 800, after: 1510 }] },
    ],
    replay: 2400, warnings: [], elapsedMs: 3250, ...over,
  };
}

describe('warnings', () => {
  it('records that are no decision, retention that deleted decisions older than the replay, a late --from', () => {
    const r = report();
    r.read[0]!.skipped = { 'not JSON': 2 };
    r.read[1]!.trimmed = [{ partition: 1, low: 10 }];
    const w = warningsOf(r, { earliest: true });
    expect(w).toEqual([
      '2 record(s) of decisions are no cpiwatch decision (2 not JSON): not re-seeded; if they were offers, the replay may send them again',
      'retention deleted the oldest records of offers (partitions 1): decisions published before 2026-11-23T17:00:00.000Z may be unknown, and replaying input older than that may send their offers again (a later --from avoids it)',
    ]);
    // replaying from after the oldest decision still there: nothing unknown is replayed
    expect(warningsOf({ ...r, read: [r.read[1]!], from: '2026-11-23T18:00:00Z' }, { time: Date.UTC(2026, 10, 23, 18) })).toEqual([
      expect.stringMatching(/^--from 2026-11-23T18:00:00Z: windows, rule states and customers' facts .* start empty at it/),
    ]);
  });
});

describe('the summary', () => {
  it('says what was removed, kept, re-seeded and reset, per partition, and what comes next', () => {
    expect(formatReport(report())).toBe([
      'rebuild of the state under "cpw" from earliest (input events, ops g.ops) in 3.3 s',
      '  state marker before: none (the state was lost)',
      '  removed: 6 owner partition key(s), 1 frontier, 0 ledger decision(s), 0 contact histories, 0 budget counter(s), 2 publish journal(s)',
      '  kept: 3 e-mail delivery state(s)',
      '  decisions re-seeded as published: 47 (40 offers, 7 suppressions; 40 read again: counted once)',
      '    from decisions: 47 record(s), the oldest published 2026-11-23T17:00:00.000Z',
      '    from offers: 40 record(s), the oldest published 2026-11-23T17:00:00.000Z',
      '  offsets of g on events:',
      '    partition 0: 1,200 -> 0',
      '    partition 1: none -> 0',
      '  offsets of g.owners on g.ops:',
      '    partition 0: 900 -> 1,500',
      '    partition 1: 800 -> 1,510',
      '  state marker written. Start the processors (cpiwatch run): they replay 2,400 input record(s) (cpiwatch_consumer_lag shows the progress); offers already published are not sent again',
    ].join('\n'));
  });

  it('a dry run says so, and how to go on', () => {
    const text = formatReport(report({ dryRun: true, marker: { before: { created: '2026-11-20T00:00:00.000Z', group: 'g.owners' } } }));
    expect(text.split('\n')[0]).toBe('dry run (nothing changed): rebuild of the state under "cpw" from earliest (input events, ops g.ops) in 3.3 s');
    expect(text).toContain('  state marker before: present (state in use since 2026-11-20T00:00:00.000Z)');
    expect(text).toContain('  would be removed: 6 owner partition key(s)');
    expect(text).toContain('  offsets of g on events (to be set):');
    expect(text.split('\n').at(-1)).toBe('  run it without --dry-run to rebuild');
  });
});
