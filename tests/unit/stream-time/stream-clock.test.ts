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

  it('counts idle sources at their advanced watermark, at most the slack behind the active ones', () => {
    const c = new StreamClock(3);
    c.slackMs = 50;
    c.update(0, 100, false);
    c.update(1, null, true); // never routed an event: left out
    c.update(2, 90, false);
    expect(c.now).toBe(90);
    c.update(2, 95, true); // caught up: its watermark moves with the wall clock
    expect(c.now).toBe(95);
    c.update(0, 120, false);
    expect(c.now).toBe(95); // a quiet source holds the others (what it sends next is not late)...
    c.update(0, 300, false);
    expect(c.now).toBe(250); // ...but never more than the slack behind them (a replay goes on)
    c.update(2, 260, false); // back, within the slack and the lateness: in time
    expect(c.now).toBe(260);
    c.update(2, null, true); // its router restarted and has nothing yet: left out
    expect(c.now).toBe(300);
  });

  it('follows the newest watermark when every source is idle', () => {
    const c = new StreamClock(2);
    c.update(0, 100, false);
    c.update(1, 40, false);
    expect(c.now).toBe(40);
    c.update(0, 150, true);
    c.update(1, 60, true);
    expect(c.now).toBe(150);
    c.update(1, 70, false); // active again, behind: time holds until it catches up
    expect(c.now).toBe(150);
  });

  it('restores from a snapshot', () => {
    const c = new StreamClock(2);
    c.update(0, 5, false);
    c.update(1, 9, false);
    expect(new StreamClock(2, c.snapshot()).now).toBe(5);
  });
});

describe('close timers', () => {
  it('fire in (due, time, entity, CPI) order, one per entity and CPI, the earliest kept', () => {
    const t = new CloseTimers();
    t.schedule('b', 'x', 20, 0);
    t.schedule('a', 'x', 20, 0);
    t.schedule('a', 'w', 20, 0);
    t.schedule('c', 'x', 30, 0);
    t.schedule('c', 'x', 10, 0); // earlier: replaces
    t.schedule('c', 'x', 40, 0); // later: ignored
    const order: string[] = [];
    for (let x = t.popDue(25); x; x = t.popDue(25)) order.push(`${x.at}:${x.tag}:${x.cpi}`);
    expect(order).toEqual(['10:c:x', '20:a:w', '20:a:x', '20:b:x']);
    expect(t.size).toBe(0);
  });

  it('a close is due its CPI\'s lateness after the boundary', () => {
    const t = new CloseTimers();
    t.schedule('a', 'slow', 10, 30); // due 40
    t.schedule('a', 'fast', 20, 5); // due 25
    expect(t.popDue(24)).toBeUndefined();
    expect(t.popDue(39)).toMatchObject({ at: 20, due: 25, cpi: 'fast' });
    expect(t.popDue(39)).toBeUndefined();
    expect(t.popDue(40)).toMatchObject({ at: 10, due: 40, cpi: 'slow' });
  });
});
