/**
 * The built-in event types under the names code relies on (customer.profile facts, store.profile's
 * time zone, customer.en-route, ...). Their fields are declared in the shipped library
 * (src/events/library/*.yaml, read by library.ts); this module only names them for TypeScript and
 * checks that the library declares exactly these. A rule folder's own types live in its
 * EventTypeRegistry (registry.ts), never here.
 */
import type { z } from 'zod';
import { BUILTIN_EVENT_TYPES } from './library.js';

export const EVENT_TYPE_NAMES = [
  'curbside.arrived', 'curbside.handed-over', 'customer.en-route', 'customer.profile', 'store.profile',
  'order.placed', 'order.shipped', 'delivery.completed', 'ticket.opened', 'ticket.resolved', 'return.completed',
  'quote.requested', 'quote.answered', 'onboarding.started', 'onboarding.completed', 'message.sent', 'message.engaged',
] as const;

export type EventTypeName = (typeof EVENT_TYPE_NAMES)[number];

if (BUILTIN_EVENT_TYPES.nameList !== EVENT_TYPE_NAMES.join(', ')) {
  throw new Error(`the event type library declares ${BUILTIN_EVENT_TYPES.nameList}; event-types.ts expects ${EVENT_TYPE_NAMES.join(', ')}`);
}

/** The zod schema of each built-in type's data (built from the library). */
export const EventTypes = Object.fromEntries(EVENT_TYPE_NAMES.map((t) => [t, BUILTIN_EVENT_TYPES.get(t)!.schema])) as Record<EventTypeName, z.ZodObject>;

/** Whether `type` is a built-in type (a rule set's own types: its EventTypeRegistry). */
export function isKnownEventType(type: string): type is EventTypeName {
  return BUILTIN_EVENT_TYPES.get(type)?.builtin === true;
}

/** The data of a built-in event: an open object (the library declares its fields). */
export type EventData<_T extends EventTypeName> = Record<string, unknown>;
