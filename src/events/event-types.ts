/**
 * Every customer event type cpiwatch understands, with the zod schema of its `data`.
 * docs/events.md documents each with an example; schemas/events/<type>.schema.json is generated from here.
 * Data objects are open (extra fields are kept, not rejected) so producers can add fields
 * without breaking us; the fields named here are validated.
 */
import { z } from 'zod';

const Id = z.string().min(1).max(128);
const Seconds = z.number().finite().nonnegative();
/** An expected duration divides measured ones: at least the engine's unit of time, a millisecond. */
const ExpectedSeconds = Seconds.min(0.001);
const Channel = z.string().min(1).max(64).describe('e.g. web, app, store, phone, email');

export const EventTypes = {
  'curbside.arrived': z.looseObject({
    orderId: Id,
    storeId: Id,
    customerId: Id,
    promisedWaitSeconds: ExpectedSeconds.optional().describe('The wait the customer was promised (at least 0.001 s)'),
  }).describe('A customer checked in at a curbside pickup spot for an order.'),
  'curbside.handed-over': z.looseObject({
    orderId: Id,
    storeId: Id,
    customerId: Id.optional(),
  }).describe('The order was handed to the waiting customer.'),
  'customer.en-route': z.looseObject({
    customerId: Id,
    storeId: Id,
    etaSeconds: Seconds.describe('Estimated time until arrival'),
  }).describe('A customer is on the way to a store (e.g. from the app\'s "I\'m on my way").'),
  'customer.profile': z.looseObject({
    customerId: Id,
    valueTier: z.enum(['bronze', 'silver', 'gold', 'platinum']),
    lifetimeValue: z.number().finite().nonnegative(),
    email: z.email().max(254).optional(),
    name: z.string().max(200).optional(),
    locale: z.string().max(35).optional(),
  }).describe('Facts about a customer, kept as the newest profile seen.'),
  'store.profile': z.looseObject({
    storeId: Id,
    timeZone: z.string().min(1).max(64).describe('IANA time zone, e.g. America/Chicago'),
    promisedWaitSeconds: ExpectedSeconds.optional().describe('The curbside wait this store promises by default (at least 0.001 s)'),
    region: z.string().max(64).optional(),
    name: z.string().max(200).optional(),
  }).describe('Facts about a store (its time zone drives quiet hours).'),
  'order.placed': z.looseObject({
    orderId: Id, customerId: Id, channel: Channel, region: z.string().min(1).max(64),
  }).describe('A customer placed an order.'),
  'order.shipped': z.looseObject({
    orderId: Id, customerId: Id, channel: Channel, region: z.string().min(1).max(64),
  }).describe('An order left the warehouse.'),
  'delivery.completed': z.looseObject({
    orderId: Id, customerId: Id, region: z.string().min(1).max(64), damaged: z.boolean(),
  }).describe('An order was delivered; damaged tells whether anything arrived broken.'),
  'ticket.opened': z.looseObject({
    ticketId: Id, customerId: Id, channel: Channel,
  }).describe('A customer opened a support incident.'),
  'ticket.resolved': z.looseObject({
    ticketId: Id, customerId: Id, channel: Channel,
    contacts: z.number().int().min(1).describe('Contacts it took to resolve (1 = first-contact resolution)'),
  }).describe('A support incident was resolved.'),
  'return.completed': z.looseObject({
    returnId: Id, customerId: Id, channel: Channel,
    steps: z.number().int().min(1).describe('Steps the customer had to take'),
    durationSeconds: Seconds.describe('From return requested to refund issued'),
  }).describe('A return was completed.'),
  'quote.requested': z.looseObject({
    quoteId: Id, customerId: Id, channel: Channel,
  }).describe('A customer asked for a quote or proposal.'),
  'quote.answered': z.looseObject({
    quoteId: Id, customerId: Id, channel: Channel,
  }).describe('The quote or proposal was sent to the customer.'),
  'onboarding.started': z.looseObject({
    customerId: Id, segment: z.string().min(1).max(64),
  }).describe('A new customer started onboarding.'),
  'onboarding.completed': z.looseObject({
    customerId: Id, segment: z.string().min(1).max(64),
  }).describe('A customer finished onboarding.'),
  'message.sent': z.looseObject({
    messageId: Id, customerId: Id, channel: Channel, campaign: z.string().min(1).max(128),
  }).describe('A message was sent to a customer.'),
  'message.engaged': z.looseObject({
    messageId: Id, customerId: Id, channel: Channel, campaign: z.string().min(1).max(128),
    action: z.enum(['opened', 'clicked', 'replied']),
  }).describe('A customer opened, clicked or replied to a message.'),
} as const;

export type EventTypeName = keyof typeof EventTypes;
export const EVENT_TYPE_NAMES = Object.keys(EventTypes) as EventTypeName[];

export function isKnownEventType(type: string): type is EventTypeName {
  return Object.prototype.hasOwnProperty.call(EventTypes, type);
}

export type EventData<T extends EventTypeName> = z.output<(typeof EventTypes)[T]>;
