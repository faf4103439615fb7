import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRfc3339, parseRfc3339 } from '../../../src/events/rfc3339.js';

describe('parseRfc3339', () => {
  it.each([
    ['2025-03-14T17:05:12Z', Date.UTC(2025, 2, 14, 17, 5, 12)],
    ['2025-03-14t17:05:12z', Date.UTC(2025, 2, 14, 17, 5, 12)],
    ['2025-03-14T17:05:12.5Z', Date.UTC(2025, 2, 14, 17, 5, 12, 500)],
    ['2025-03-14T17:05:12.123456789Z', Date.UTC(2025, 2, 14, 17, 5, 12, 123)],
    ['2025-03-14T12:05:12-05:00', Date.UTC(2025, 2, 14, 17, 5, 12)],
    ['2025-03-15T02:35:12+09:30', Date.UTC(2025, 2, 14, 17, 5, 12)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2000-02-29T00:00:00+00:00', Date.UTC(2000, 1, 29)],
    ['1969-12-31T23:59:59.999Z', -1],
    ['0001-01-01T00:00:00Z', Date.parse('0001-01-01T00:00:00Z')],
    ['2016-12-31T23:59:60Z', Date.UTC(2017, 0, 1)],
  ])('%s', (text, ms) => {
    expect(parseRfc3339(text)).toBe(ms);
  });

  it.each([
    ['2025-03-14T17:05:12', 'the time zone is missing (expected Z or an offset such as +01:00)'],
    ['2025-03-14 17:05:12Z', 'not in the RFC 3339 form YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM)'],
    ['2025-3-14T17:05:12Z', 'not in the RFC 3339 form YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM)'],
    ['2023-02-29T00:00:00Z', 'day 29 does not exist in 2023-02'],
    ['1900-02-29T00:00:00Z', 'day 29 does not exist in 1900-02'],
    ['2025-04-31T00:00:00Z', 'day 31 does not exist in 2025-04'],
    ['2025-00-10T00:00:00Z', 'month 0 is out of range'],
    ['2025-03-14T24:00:00Z', 'hour 24 is out of range'],
    ['2025-03-14T23:60:00Z', 'minute 60 is out of range'],
    ['2025-03-14T23:59:61Z', 'second 61 is out of range'],
    ['2025-03-14T17:05:12.Z', 'the fraction of a second after "." has no digits'],
    ['2025-03-14T17:05:12+0100', 'the time zone offset is not in the form +HH:MM or -HH:MM'],
    ['2025-03-14T17:05:12+24:00', 'the time zone offset +24:00 is out of range'],
    ['2025-03-14T17:05:12Zjunk', 'unexpected characters after the time zone'],
    ['2025-03-14', 'too short for an RFC 3339 date-time such as 2025-03-14T09:26:53Z'],
    ['+2025-03-14T17:05:12Z', 'not in the RFC 3339 form YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM)'],
    ['0000-01-01T00:30:00+01:00', 'outside the years 0000 to 9999 once converted to UTC'],
    ['9999-12-31T23:59:59-00:01', 'outside the years 0000 to 9999 once converted to UTC'],
    ['２０２５-03-14T17:05:12Z', 'not in the RFC 3339 form YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM)'],
  ])('rejects %s', (text, reason) => {
    expect(parseRfc3339(text)).toBe(reason);
  });

  it('rejects absurdly long strings', () => {
    expect(parseRfc3339(`2025-03-14T17:05:12.${'1'.repeat(100)}Z`)).toMatch(/^too long/);
  });

  it('agrees with Date for every instant between years 0 and 9999 (round trip)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }), (ms) => {
        expect(parseRfc3339(formatRfc3339(ms))).toBe(ms);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with Date.parse on valid dates with offsets', () => {
    const two = (n: number) => String(n).padStart(2, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: 1970, max: 2100 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: -14, max: 14 }),
        (y, mo, d, h, mi, off) => {
          const text = `${y}-${two(mo)}-${two(d)}T${two(h)}:${two(mi)}:07.25${off < 0 ? '-' : '+'}${two(Math.abs(off))}:30`;
          expect(parseRfc3339(text)).toBe(Date.parse(text));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
