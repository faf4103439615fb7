// The read-committed filter that replaces kafkajs's (src/adapters/kafka/read-committed.ts): for any
// transactions of any producers, interleaved in any way and ended in any order, a read-committed
// consumer sees exactly the committed and the non-transactional records, in offset order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../../../src/adapters/kafka/kafka-client.js';
import { filterAbortedRecords, readCommittedIsSafe } from '../../../src/adapters/kafka/read-committed.js';

interface Rec { offset: string; key: Buffer | null; isControlRecord: boolean; batchContext: { producerId: string; inTransaction: boolean }; value: string }

/** A partition's log from a script of steps: writes of open transactions, plain writes, and ends. */
function logOf(steps: { producer: number; end?: 'commit' | 'abort'; plain?: boolean }[]) {
  const log: Rec[] = [];
  const aborted: { producerId: string; firstOffset: string }[] = []; // in marker order, as the broker lists them
  const open = new Map<number, number>(); // producer -> first offset of its open transaction
  const expected: string[] = [];
  const pending = new Map<number, string[]>();
  const push = (producer: number, control: 'commit' | 'abort' | null, inTransaction: boolean) => {
    const offset = log.length;
    const value = control ? `${control}-${producer}` : `r${offset}-p${producer}`;
    log.push({ offset: String(offset), key: control ? Buffer.from([0, 0, 0, control === 'abort' ? 0 : 1]) : null, isControlRecord: control !== null, batchContext: { producerId: String(producer), inTransaction }, value });
    return value;
  };
  for (const s of steps) {
    if (s.plain) { expected.push(push(100 + s.producer, null, false)); continue; }
    if (s.end) {
      const first = open.get(s.producer);
      if (first === undefined) continue;
      push(s.producer, s.end, true);
      if (s.end === 'abort') aborted.push({ producerId: String(s.producer), firstOffset: String(first) });
      else expected.push(...(pending.get(s.producer) ?? []));
      open.delete(s.producer);
      pending.delete(s.producer);
      continue;
    }
    if (!open.has(s.producer)) open.set(s.producer, log.length);
    pending.set(s.producer, [...(pending.get(s.producer) ?? []), push(s.producer, null, true)]);
  }
  return { log, aborted, expected };
}

const byOffset = (values: string[], log: Rec[]) => values.slice().sort((a, b) => log.findIndex((r) => r.value === a) - log.findIndex((r) => r.value === b));

describe('read committed (the filter that replaces kafkajs 2.2.4\'s)', () => {
  it('drops two overlapping aborted transactions whose markers come in the other order', () => {
    const { log, aborted } = logOf([{ producer: 1 }, { producer: 1 }, { producer: 2 }, { producer: 2, end: 'abort' }, { producer: 1 }, { producer: 1, end: 'abort' }]);
    expect(aborted.map((a) => a.producerId)).toEqual(['2', '1']);
    expect(filterAbortedRecords({ messages: log, abortedTransactions: aborted }).filter((r) => !r.isControlRecord)).toEqual([]);
  });

  it('keeps a producer\'s committed transaction after its aborted one, and plain records amid aborted ones', () => {
    const { log, aborted, expected } = logOf([{ producer: 1 }, { producer: 0, plain: true }, { producer: 1, end: 'abort' }, { producer: 1 }, { producer: 1, end: 'commit' }]);
    const seen = filterAbortedRecords({ messages: log, abortedTransactions: aborted }).filter((r) => !r.isControlRecord).map((r) => r.value);
    expect(seen).toEqual(expected);
    expect(seen).toHaveLength(2);
  });

  it('is what kafkajs uses once cpiwatch\'s Kafka client is loaded', () => {
    expect(readCommittedIsSafe()).toBe(true);
  });

  it('for any interleaving of transactions ended in any order, from any fetch offset: exactly the committed and plain records', () => {
    const step = fc.oneof(
      fc.record({ producer: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ producer: fc.integer({ min: 1, max: 4 }), end: fc.constantFrom<'commit' | 'abort'>('commit', 'abort') }),
      fc.record({ producer: fc.integer({ min: 1, max: 2 }), plain: fc.constant(true) }),
    );
    fc.assert(fc.property(fc.array(step, { maxLength: 60 }), fc.nat(), (steps, from) => {
      const { log, aborted, expected } = logOf([...steps, ...[1, 2, 3, 4].map((producer) => ({ producer, end: 'abort' as const }))]);
      const fetchFrom = log.length === 0 ? 0 : from % log.length;
      // a fetch from some offset: the broker lists the aborted transactions that end at or after it
      const markerOf = (a: { producerId: string; firstOffset: string }) => log.findIndex((r, i) => i >= Number(a.firstOffset) && r.isControlRecord && r.batchContext.producerId === a.producerId);
      const listed = aborted.filter((a) => markerOf(a) >= fetchFrom);
      const seen = filterAbortedRecords({ messages: log.slice(fetchFrom), abortedTransactions: listed }).filter((r) => !r.isControlRecord).map((r) => r.value);
      const wanted = byOffset(expected, log).filter((v) => log.findIndex((r) => r.value === v) >= fetchFrom);
      expect(seen).toEqual(wanted);
    }), { numRuns: 400 });
  });
});
