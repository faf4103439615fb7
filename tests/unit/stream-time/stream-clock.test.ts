import { describe, expect, it } from 'vitest';
import { CloseTimers } from '../../../src/stream-time/close-timers.js';
import { StreamClock } from '../../../src/stream-time/stream-clock.js';

describe('the stream time of a partition', () => {
  it('is the slowest active source, waits for sources that never reported, and never goes back', () => {
    const c = new StreamClock(3);
    c.update(0, 100, false);
    c.update(1, 50, false);
    expect(c.now).toBeNull(); // source 2 has not reported
    c.update(2, 70, false);
    expect(c.now).toBe(50);
    c.update(1, 200, false);
    expect(c.now).toBe(70);
    c.update(2, 10, false); // a source restarting from an older mark does not move time back
    expect(c.now).toBe(70);
  });

  it('leaves idle sources out, and follows the newest mark when every source is idle', () => {
    const c = new StreamClock(2);
    c.update(0, 100, false);
    c.update(1, null, true);
    expect(c.now).toBe(100);
    c.update(0, 150, true);
    c.update(1, 400, true);
    expect(c.now).toBe(400);
    c.update(0, 160, false); // active again, behind: time holds until it catches up
    expect(c.now).toBe(400);
  });

  it('restores from a snapshot', () => {
    const c = new StreamClock(2);
    c.update(0, 5, false);
    c.update(1, 9, false);
    expect(new StreamClock(2, c.snapshot()).now).toBe(5);
  });
});

describe('close timers', () => {
  it('fire in (time, entity, CPI) order, one per entity and CPI, the earliest kept', () => {
    const t = new CloseTimers();
    t.schedule('b', 'x', 20);
    t.schedule('a', 'x', 20);
    t.schedule('a', 'w', 20);
    t.schedule('c', 'x', 30);
    t.schedule('c', 'x', 10); // earlier: replaces
    t.schedule('c', 'x', 40); // later: ignored
    const order: string[] = [];
    for (let x = t.popDue(25); x; x = t.popDue(25)) order.push(`${x.at}:${x.tag}:${x.cpi}`);
    expect(order).toEqual(['10:c:x', '20:a:w', '20:a:x', '20:b:x']);
    expect(t.size).toBe(0);
  });
});
