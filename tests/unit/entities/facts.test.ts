// Facts as of a time: the one-field lookup the duration divisor uses agrees with the full view,
// for any profile versions (any order, equal times, more than are kept apart).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Facts } from '../../../src/entities/facts.js';

describe('facts as of a time', () => {
  it('valueAt(time, field) is at(time)[field] for any versions', () => {
    const field = fc.constantFrom('a', 'b', 'c');
    const version = fc.record({ time: fc.integer({ min: 0, max: 50 }), facts: fc.dictionary(field, fc.integer(), { maxKeys: 3 }) });
    fc.assert(fc.property(fc.array(version, { maxLength: 20 }), fc.integer({ min: -1, max: 51 }), field, (versions, time, f) => {
      const facts = new Facts();
      for (const v of versions) facts.apply(v.time, v.facts);
      expect(facts.valueAt(time, f)).toEqual(facts.at(time)?.[f]);
    }), { numRuns: 500 });
  });
});
