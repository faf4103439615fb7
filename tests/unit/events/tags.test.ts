import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTag, tagOf } from '../../../src/cpis/tags.js';

describe('entity tags', () => {
  it('encode non-ASCII ids as UTF-8 and give them back exactly', () => {
    expect(tagOf('customerId', 'josé')).toBe('customerId=jos%C3%A9');
    expect(tagOf('customerId', '客户1')).toBe('customerId=%E5%AE%A2%E6%88%B71');
    expect(parseTag(tagOf('storeId', 'Café-Ñ')).value).toBe('Café-Ñ');
  });

  it('never give two ids one tag (a—20 and a 1420 used to share all their state)', () => {
    expect(tagOf('customerId', 'a—20')).not.toBe(tagOf('customerId', 'a 1420'));
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
      if (a !== b) expect(tagOf('x', a)).not.toBe(tagOf('x', b));
      expect(parseTag(tagOf('x', a)).value).toBe(a);
      expect(tagOf('x', a)).not.toMatch(/[{}]/);
    }));
  });
});
