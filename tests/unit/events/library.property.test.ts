// The shipped declaration library (src/events/library/*.yaml) accepts and refuses exactly what the
// hand-written zod schemas it replaced did (copied below from event-types.ts before the move, as
// the oracle), on generated data that mixes valid values, edge values and wrong types.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EVENT_TYPE_NAMES, EventTypes } from '../../../src/events/event-types.js';
import { formatZodIssues } from '../../../src/events/zod-issues.js';

const Id = z.string().min(1).max(128);
const Seconds = z.number().finite().nonnegative();
const ExpectedSeconds = Seconds.min(0.001);
const Channel = z.string().min(1).max(64);

const HAND_WRITTEN: Record<string, z.ZodType> = {
  'curbside.arrived': z.looseObject({ orderId: Id, storeId: Id, customerId: Id, promisedWaitSeconds: ExpectedSeconds.optional() }),
  'curbside.handed-over': z.looseObject({ orderId: Id, storeId: Id, customerId: Id.optional() }),
  'customer.en-route': z.looseObject({ customerId: Id, storeId: Id, etaSeconds: Seconds }),
  'customer.profile': z.looseObject({
    customerId: Id, valueTier: z.enum(['bronze', 'silver', 'gold', 'platinum']), lifetimeValue: z.number().finite().nonnegative(),
    email: z.email().max(254).optional(), name: z.string().max(200).optional(), locale: z.string().max(35).optional(),
  }),
  'store.profile': z.looseObject({
    storeId: Id, timeZone: z.string().min(1).max(64), promisedWaitSeconds: ExpectedSeconds.optional(),
    region: z.string().max(64).optional(), name: z.string().max(200).optional(),
  }),
  'order.placed': z.looseObject({ orderId: Id, customerId: Id, channel: Channel, region: z.string().min(1).max(64) }),
  'order.shipped': z.looseObject({ orderId: Id, customerId: Id, channel: Channel, region: z.string().min(1).max(64) }),
  'delivery.completed': z.looseObject({ orderId: Id, customerId: Id, region: z.string().min(1).max(64), damaged: z.boolean() }),
  'ticket.opened': z.looseObject({ ticketId: Id, customerId: Id, channel: Channel }),
  'ticket.resolved': z.looseObject({ ticketId: Id, customerId: Id, channel: Channel, contacts: z.number().int().min(1) }),
  'return.completed': z.looseObject({ returnId: Id, customerId: Id, channel: Channel, steps: z.number().int().min(1), durationSeconds: Seconds }),
  'quote.requested': z.looseObject({ quoteId: Id, customerId: Id, channel: Channel }),
  'quote.answered': z.looseObject({ quoteId: Id, customerId: Id, channel: Channel }),
  'onboarding.started': z.looseObject({ customerId: Id, segment: z.string().min(1).max(64) }),
  'onboarding.completed': z.looseObject({ customerId: Id, segment: z.string().min(1).max(64) }),
  'message.sent': z.looseObject({ messageId: Id, customerId: Id, channel: Channel, campaign: z.string().min(1).max(128) }),
  'message.engaged': z.looseObject({ messageId: Id, customerId: Id, channel: Channel, campaign: z.string().min(1).max(128), action: z.enum(['opened', 'clicked', 'replied']) }),
};

const FIELDS = [...new Set(Object.values(HAND_WRITTEN).flatMap((s) => Object.keys((s as z.ZodObject).shape)))];

const value = fc.oneof(
  fc.constantFrom('', 'a', 'gold', 'platinum', 'clicked', 'ana@example.com', 'not-an-email', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(255)),
  fc.string({ maxLength: 140 }),
  fc.constantFrom(0, 0.0005, 0.001, 1, 1.5, -1, 2, 300),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -5, max: 5 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
);

const data = fc.dictionary(fc.constantFrom(...FIELDS, 'spot', 'extra'), value, { maxKeys: 8 });

describe('the declaration library and the hand-written schemas it replaced', () => {
  it('has an oracle for every built-in type', () => {
    expect(Object.keys(HAND_WRITTEN)).toEqual([...EVENT_TYPE_NAMES]);
  });

  it('accept and refuse the same data, with the same reasons, and keep the same fields', () => {
    fc.assert(
      fc.property(fc.constantFrom(...EVENT_TYPE_NAMES), data, (type, d) => {
        const before = HAND_WRITTEN[type]!.safeParse(d);
        const after = EventTypes[type].safeParse(d);
        expect(after.success).toBe(before.success);
        if (before.success && after.success) expect(after.data).toEqual(before.data);
        // the reasons dead letters carry (a redundant weaker bound of the old schemas is dropped there)
        else if (!before.success && !after.success) expect(formatZodIssues(after.error.issues, d, 'data')).toBe(formatZodIssues(before.error.issues, d, 'data'));
      }),
      { numRuns: 3000 },
    );
  });

  it('accept every valid combination of required fields', () => {
    // the generated data above rarely hits a whole valid event: this builds them from each type's fields
    fc.assert(
      fc.property(fc.constantFrom(...EVENT_TYPE_NAMES), fc.string({ minLength: 1, maxLength: 128 }), fc.double({ min: 0.001, max: 1e6, noNaN: true }), fc.integer({ min: 1, max: 50 }), fc.boolean(), (type, id, s, n, b) => {
        const shape = (HAND_WRITTEN[type] as z.ZodObject).shape as Record<string, z.ZodType>;
        const d: Record<string, unknown> = {};
        for (const [name, schema] of Object.entries(shape)) {
          if (schema.safeParse(undefined).success && b) continue;
          d[name] = name === 'valueTier' ? 'gold' : name === 'action' ? 'opened' : name === 'damaged' ? b : name === 'email' ? 'ana@example.com'
            : ['contacts', 'steps'].includes(name) ? n : ['etaSeconds', 'durationSeconds', 'promisedWaitSeconds', 'lifetimeValue'].includes(name) ? s
            : id.slice(0, 35) || 'x';
        }
        expect(HAND_WRITTEN[type]!.safeParse(d).success).toBe(true);
        expect(EventTypes[type].safeParse(d)).toEqual(HAND_WRITTEN[type]!.safeParse(d));
      }),
      { numRuns: 1000 },
    );
  });
});
