/**
 * The one declaration of the variables a template may use (rules/templates/*.liquid): the offer,
 * the trigger that sent it, the customer's facts the processor keeps (customer.profile) and, when
 * the breach is a store's, that store's (store.profile). The
 * same list checks templates in `cpiwatch validate` (template-check.ts), builds the context every
 * render gets (every declared variable is present, null when the offer or the facts lack it, so
 * `{% if customer.name %}` works under strictVariables), gives `cpiwatch preview` its sample values
 * and is printed in docs/rules.md ("Templates"; a docs test compares the table with this list).
 */
import type { OfferData } from '../offer-event.js';

/** What one render is about: the published offer, the customer's facts, the rule's e-mail subject. */
export interface TemplateInput {
  offer: OfferData;
  /** The customer's facts now (customer.profile fields: name, email, locale, valueTier, ...). */
  facts?: Readonly<Record<string, unknown>>;
  /** The rule's `email.subject`, when it sets one. */
  subject?: string;
  /** The facts of the breaching store (store.profile), when the scope is a store (`storeId`). */
  store?: Readonly<Record<string, unknown>>;
}

export type TemplateValue = string | number | null;

export interface TemplateVariable {
  name: string;
  description: string;
  sample: string | number;
  of: (input: TemplateInput) => unknown;
}

const fact = (name: string) => (i: TemplateInput) => i.facts?.[name];

export const TEMPLATE_VARIABLES: readonly TemplateVariable[] = [
  { name: 'offer.id', description: 'The offer id (idempotency key)', sample: 'b5f0c1d2e3a4f5a6', of: (i) => i.offer.offerId },
  { name: 'offer.kind', description: "The offer's `kind`", sample: 'complimentary-drink', of: (i) => i.offer.offer?.kind },
  { name: 'offer.code', description: "The offer's `code`", sample: 'CURBSIDE-DRINK', of: (i) => i.offer.offer?.code },
  { name: 'offer.title', description: "The offer's `title` as published (from its `offer.template` when it has one; not in the offer's own texts)", sample: 'A drink on us while you wait', of: (i) => i.offer.offer?.title },
  { name: 'offer.terms', description: "The offer's `terms` as published (null when it has none; not in the offer's own texts)", sample: 'One complimentary drink of any size.', of: (i) => i.offer.offer?.terms },
  { name: 'offer.issuedAt', description: 'When the offer was made (ISO 8601, UTC)', sample: '2026-11-23T18:06:00.000Z', of: (i) => i.offer.offer?.issuedAt },
  { name: 'offer.expiresAt', description: 'When it expires (ISO 8601, UTC; `| date: "%H:%M"` formats it)', sample: '2026-11-23T20:06:00.000Z', of: (i) => i.offer.offer?.expiresAt },
  { name: 'offer.redemption.channel', description: 'Where it is redeemed, e.g. `store-bar`', sample: 'store-bar', of: (i) => i.offer.offer?.redemption?.channel },
  { name: 'offer.redemption.instructions', description: 'How to redeem it (null when the rule gives none)', sample: 'Show this offer at the store bar.', of: (i) => i.offer.offer?.redemption?.instructions },
  { name: 'trigger.rule', description: 'The id of the rule that fired', sample: 'curbside-flash-drink', of: (i) => i.offer.rule?.id },
  { name: 'trigger.cpi', description: 'The id of its CPI', sample: 'curbside-wait-vs-promise', of: (i) => i.offer.trigger?.cpi },
  { name: 'trigger.aggregate', description: 'The aggregate compared, e.g. `p90`', sample: 'p90', of: (i) => i.offer.trigger?.aggregate },
  { name: 'trigger.value', description: "The CPI's value when it fired (a number)", sample: 1.6, of: (i) => i.offer.trigger?.value },
  { name: 'trigger.direction', description: '`above` or `below`', sample: 'above', of: (i) => i.offer.trigger?.direction },
  { name: 'trigger.threshold', description: 'The threshold it crossed (a number)', sample: 1.25, of: (i) => i.offer.trigger?.threshold },
  { name: 'trigger.scope.dimension', description: 'What breached: the `groupBy` field, e.g. `storeId`', sample: 'storeId', of: (i) => i.offer.trigger?.scope?.dimension },
  { name: 'trigger.scope.value', description: 'Which one, e.g. the store id `S1`', sample: 'S1', of: (i) => i.offer.trigger?.scope?.value },
  { name: 'customer.id', description: 'The customer id', sample: 'cust-2210', of: (i) => i.offer.customerId },
  { name: 'customer.name', description: 'Fact `name` of customer.profile (null when unknown)', sample: 'Ana', of: fact('name') },
  { name: 'customer.email', description: 'Fact `email`', sample: 'ana@example.com', of: fact('email') },
  { name: 'customer.locale', description: 'Fact `locale` (BCP 47), which also picks the translation', sample: 'en-US', of: fact('locale') },
  { name: 'customer.valueTier', description: 'Fact `valueTier`: bronze, silver, gold or platinum', sample: 'gold', of: fact('valueTier') },
  { name: 'customer.lifetimeValue', description: 'Fact `lifetimeValue` (a number)', sample: 1800, of: fact('lifetimeValue') },
  { name: 'store.name', description: 'Fact `name` of the breaching store (store.profile; null unless the CPI is per `storeId`)', sample: 'Springfield Mall', of: (i) => i.store?.name },
  { name: 'store.region', description: 'Fact `region` of that store', sample: 'midwest', of: (i) => i.store?.region },
  { name: 'store.timeZone', description: 'Fact `timeZone` of that store, e.g. `America/Chicago`', sample: 'America/Chicago', of: (i) => i.store?.timeZone },
  { name: 'email.subject', description: "The rule's `email.subject` (null when it sets none)", sample: 'Sorry for the wait', of: (i) => i.subject },
];

export const TEMPLATE_VARIABLE_NAMES: readonly string[] = TEMPLATE_VARIABLES.map((v) => v.name);

/**
 * The variables the offer's own texts (`--- title`, `--- terms`) cannot read: they are those texts
 * (or the e-mail's subject, which the offer does not have). Every other variable can.
 */
export const NOT_IN_OFFER_TEXTS: readonly string[] = ['offer.title', 'offer.terms', 'email.subject'];

/** The objects on the way to a variable (`offer`, `offer.redemption`): usable in `{% if %}`. */
const PARENTS = new Set(TEMPLATE_VARIABLE_NAMES.flatMap((n) => n.split('.').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('.'))));

/** Whether a path read by a template (`customer.name`, `offer.redemption`) is declared. */
export function isDeclaredPath(path: string): boolean {
  return TEMPLATE_VARIABLE_NAMES.includes(path) || PARENTS.has(path);
}

/** Strings and finite numbers as they are; an empty string, like a missing value, is null (falsy in `{% if %}`). */
const asValue = (v: unknown): TemplateValue => ((typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v)) ? v : null);

function nest(values: ReadonlyMap<string, TemplateValue>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [name, value] of values) {
    const parts = name.split('.');
    let at = root;
    for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
    at[parts[parts.length - 1]!] = value;
  }
  return root;
}

/** The render context: every declared variable, from the input (null where it has none). */
export function templateContext(input: TemplateInput): Record<string, unknown> {
  return nest(new Map(TEMPLATE_VARIABLES.map((v) => [v.name, asValue(v.of(input))])));
}

/**
 * The sample context of `cpiwatch preview`: every variable's sample, overridden by `data` (nested
 * like the context, `{ "customer": { "name": "Zoë" } }`, or flat, `{ "customer.name": "Zoë" }`).
 * Unknown keys are returned, not used.
 */
export function sampleContext(data: Readonly<Record<string, unknown>> = {}): { context: Record<string, unknown>; unknown: string[] } {
  const values = new Map<string, TemplateValue>(TEMPLATE_VARIABLES.map((v) => [v.name, v.sample]));
  const unknown: string[] = [];
  const visit = (prefix: string, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) visit(prefix === '' ? k : `${prefix}.${k}`, v);
      return;
    }
    if (TEMPLATE_VARIABLE_NAMES.includes(prefix)) values.set(prefix, asValue(value));
    else unknown.push(prefix);
  };
  visit('', data);
  return { context: nest(values), unknown };
}
