import { describe, expect, it } from 'vitest';
import { changedSince, nextCloseAt } from '../../../src/stream-time/next-close.js';
import { CpiWindow } from '../../../src/windows/cpi-window.js';
import type { CpiWindowSpec } from '../../../src/windows/window-spec.js';

const M = 60_000;
const spec: CpiWindowSpec = { cpi: 'c', resolutionMs: M, buckets: 15, latenessMs: 0 };

function windowWith(...minutes: number[]): CpiWindow {
  const w = new CpiWindow();
  for (const m of minutes) w.add(m * M + 1, spec, { value: 1 });
  return w;
}

describe('the next close that can change anything', () => {
  it('is when the oldest bucket with data leaves the window, when nothing else comes', () => {
    // data in minute 2: in the windows ending at 3m ... 17m, gone from the one ending at 18m
    expect(nextCloseAt(windowWith(2), spec, 3 * M, [])).toBe(18 * M);
    expect(nextCloseAt(windowWith(2, 5), spec, 3 * M, [])).toBe(6 * M); // minute 5 comes in first
    expect(nextCloseAt(windowWith(2, 5), spec, 6 * M, [])).toBe(18 * M);
    expect(nextCloseAt(windowWith(5), spec, 18 * M, [])).toBe(21 * M);
  });

  it('is when a pending breach has lasted its `for`, or a boundary the caller needs, if earlier', () => {
    expect(nextCloseAt(windowWith(2), spec, 3 * M, [{ since: 3 * M, forMs: 150_000 }])).toBe(6 * M);
    expect(nextCloseAt(windowWith(2), spec, 3 * M, [], 9 * M)).toBe(9 * M);
  });

  it('is never before the next step, and none when the window holds nothing and nothing waits', () => {
    expect(nextCloseAt(windowWith(3), spec, 3 * M, [])).toBe(4 * M);
    expect(nextCloseAt(windowWith(), spec, 3 * M, [])).toBe(Infinity);
    expect(nextCloseAt(windowWith(), spec, 3 * M, [{ since: 0, forMs: 0 }])).toBe(4 * M);
  });
});

describe('whether a close can evaluate differently from the last one', () => {
  it('is so when a bucket with data left or came in between, or a pending breach reached its `for`', () => {
    const w = windowWith(2, 9);
    expect(changedSince(w, spec, 10 * M, 12 * M, [])).toBe(false); // minutes 2 and 9 in both windows
    expect(changedSince(w, spec, 10 * M, 18 * M, [])).toBe(true); // minute 2 left at 18m
    expect(changedSince(windowWith(2, 11), spec, 10 * M, 12 * M, [])).toBe(true); // minute 11 came in at 12m
    expect(changedSince(w, spec, 10 * M, 12 * M, [{ since: 9 * M, forMs: 2 * M }])).toBe(true);
    expect(changedSince(w, spec, 10 * M, 12 * M, [{ since: 9 * M, forMs: 4 * M }])).toBe(false);
  });
});
