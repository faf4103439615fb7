// Events far apart in event time (one stamped in the year 472 or 1970, others of today: a producer's
// clock reset, a default timestamp) must not make an owner close every step in between. A step whose
// window holds nothing, with no rule state to move, evaluates to nothing, so the next close is the
// first whose window holds data. Found by the fuzz test on the real stack: with the old event on one
// source and today's on another, the owner's stream time stayed at the old one while today's sample
// was applied, and then walked 35 million half-hour steps (20 minutes of CPU) once it moved.
import { describe, expect, it } from 'vitest';
import { asMessages } from '../../support/local-run.js';
import { exampleRules } from '../../support/processor.js';
import { runMultiSource } from '../../support/stream-engine.js';

const ticket = (id: string, type: 'ticket.opened' | 'ticket.resolved', time: string) => ({
  specversion: '1.0', id: `${type}-${id}`, source: 'urn:test', type, time,
  data: { ticketId: `t-${id}`, customerId: `c-${id}`, channel: 'app' },
});

describe('events centuries apart for one entity', () => {
  it('close only the steps whose windows hold data', async () => {
    const old = [ticket('old', 'ticket.opened', '0472-03-01T00:00:00Z'), ticket('old', 'ticket.resolved', '0472-03-01T01:00:00Z')];
    const today = [ticket('new', 'ticket.opened', '2026-12-01T12:00:00Z'), ticket('new', 'ticket.resolved', '2026-12-01T14:00:00Z')];
    // source 0 holds the old pair first, source 1 today's: the owner applies today's while its
    // stream time (the slower source's) is still in 472, then source 0 catches up
    const messages = asMessages([...old, ...today, ticket('late', 'ticket.opened', '2026-12-01T15:00:00Z')]);
    const started = performance.now();
    await runMultiSource(await exampleRules(), messages, {
      sources: 2,
      sourceOf: (_m, i) => (i < 2 || i === 4 ? 0 : 1),
      routeBatch: () => 1,
      pick: (ready) => (ready.includes(0) && !ready.includes(1) ? 0 : ready.includes(1) ? 1 : ready[0]!),
      ownerBatch: () => 1,
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  }, 30_000);
});
