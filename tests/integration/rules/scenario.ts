// The scenario both integration tests of rules replay: several stores, out-of-order events within
// the allowed lateness, and every guardrail in play (holdout, rule cooldown, a budget small enough
// to bite, quiet hours in one store's time zone, a kill switch on one rule, the customer cooldown),
// and offer texts from templates (one rule's in two languages, one's failing for some customers).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WireCloudEvent } from '../../../src/events/decode.js';
import { curbsideScenario, prng, type ScenarioEvent } from '../../../src/samples/curbside-scenario.js';

/** 11:00 in Chicago, 02:00 in Tokyo (quiet hours there); in the past, so no event is "in the future". */
export const START = Date.UTC(2026, 10, 20, 17, 0, 0);

/**
 * The offer texts of the scenario's rules (templates/*.liquid). curbside-apology's: the customer's
 * name, the store's and the CPI value, in English or French by the customer's locale.
 */
export const OFFER_TEXTS = {
  // curbside-flash-drink's title fails at render time for customers of en-US (a computed key their
  // facts lack): those offers carry the rule's own title (the CPW509 fallback)
  'drink-texts.liquid': '--- title\n{% if customer.locale == "en-US" %}{{ customer[trigger.cpi] }}{% else %}{{ customer.name }}, a drink on us at {{ store.name }}{% endif %}\n',
  'apology-texts.liquid': '--- title\n{{ customer.name | default: "Hello" }}, sorry for the wait at {{ store.name }}\n--- terms\nWaits ran {{ trigger.value | round: 2 }} x the promise. Code {{ offer.code }}.\n',
  'apology-texts.fr.liquid': '--- title\n{{ customer.name | default: "Bonjour" }}, pardon pour l\'attente à {{ store.name }}\n--- terms\nAttente de {{ trigger.value | round: 2 }} x la promesse. Code {{ offer.code }}.\n',
} as const;

/** Writes the rule files of the scenario into dir: curbside with tight guardrails, plus two rules on its CPI (the apology's texts from a template). */
export async function writeScenarioRules(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const curbside = await readFile('rules/curbside.yaml', 'utf8');
  const tight = curbside
    .replace('budget: { max: 50, per: 1h }', 'budget: { max: 4, per: 1h }')
    .replace(/\n    email:[\s\S]*$/, '\n');
  const rules = tight.slice(tight.indexOf('rules:\n') + 'rules:\n'.length);
  const apology = rules
    .replace('id: curbside-flash-drink', 'id: curbside-apology')
    .replace('threshold: { above: 1.25, clear: 1.0 }', 'threshold: { above: 1.5, clear: 1.2 }')
    .replace(/    filter:\n      valueTier: \{ in: \[gold, platinum\] \}\n/, '')
    .replace(/    guardrails:\n[\s\S]*?    offer:/, '    guardrails:\n      cooldown: 24h\n    offer:')
    .replace('code: CURBSIDE-DRINK', 'code: CURBSIDE-SORRY\n      template: apology-texts');
  const killed = rules
    .replace('id: curbside-flash-drink', 'id: curbside-switched-off')
    .replace(/    guardrails:\n[\s\S]*?    offer:/, '    guardrails:\n      killSwitch: true\n    offer:');
  const drink = tight.replace('code: CURBSIDE-DRINK', 'code: CURBSIDE-DRINK\n      template: drink-texts');
  await writeFile(join(dir, 'curbside.yaml'), drink + apology + killed);
  await mkdir(join(dir, 'templates'), { recursive: true });
  for (const [name, text] of Object.entries(OFFER_TEXTS)) await writeFile(join(dir, 'templates', name), text);
  await writeFile(join(dir, 'policy.yaml'), 'policy:\n  customerCooldown: 1h\n  frequencyCap: { max: 5, per: 7d }\n  defaultTimeZone: America/New_York\n');
}

/**
 * Four stores (three busy); busy store C is in Tokyo, where it is night. High-value customers sent to
 * store A also set out for store B a little later (the rule cooldown). Some neighbouring events
 * arrive swapped (less than a minute apart: within the 2 minutes of allowed lateness).
 */
export function scenarioEvents(idPrefix: string): ScenarioEvent[] {
  const s = curbsideScenario({ start: START, seed: 17, stores: 4, busyStores: 3, enRoutePerStore: 12, minutes: 24, idPrefix });
  const events = s.events.map((e) => ({ key: e.key, event: { ...e.event, data: { ...e.event.data } } as WireCloudEvent }));
  const storeC = s.stores[2]!.storeId;
  for (const e of events) if (e.event.type === 'store.profile' && e.event.data.storeId === storeC) e.event.data.timeZone = 'Asia/Tokyo';
  // every third customer reads French (the apology's offer texts), every third English
  let profiles = 0;
  for (const e of events) {
    if (e.event.type !== 'customer.profile') continue;
    const locale = [undefined, 'fr-CA', 'en-US'][++profiles % 3];
    if (locale) e.event.data.locale = locale;
  }
  const storeA = s.stores[0]!.storeId;
  const storeB = s.stores[1]!.storeId;
  let n = 0;
  for (const c of s.enRoute) {
    if (c.storeId !== storeA || (c.valueTier !== 'gold' && c.valueTier !== 'platinum')) continue;
    const time = new Date(c.time + 6 * 60_000).toISOString();
    events.push({ key: storeB, event: { specversion: '1.0', id: `${idPrefix}-again-${++n}`, source: 'urn:cpiwatch:test', type: 'customer.en-route', time, data: { customerId: c.customerId, storeId: storeB, etaSeconds: 900 } } });
  }
  events.sort((a, b) => Date.parse(a.event.time) - Date.parse(b.event.time) || (a.event.id < b.event.id ? -1 : 1));
  const rand = prng(99);
  for (let i = 0; i + 1 < events.length; i++) {
    const a = events[i]!;
    const b = events[i + 1]!;
    const swappable = (e: ScenarioEvent) => e.event.type !== 'customer.profile' && e.event.type !== 'store.profile';
    if (swappable(a) && swappable(b) && Date.parse(b.event.time) - Date.parse(a.event.time) < 60_000 && rand() < 0.15) {
      events[i] = b;
      events[i + 1] = a;
      i++;
    }
  }
  return events;
}
