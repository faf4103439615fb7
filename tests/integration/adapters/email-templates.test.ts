// Marketers' Liquid templates on the real broker, Redis and an SMTP server: the rule set is loaded
// from a rules folder with templates/ (the shipped example rules/fulfilment.yaml and its
// shipping-apology template in English and French), and each customer gets the e-mail in their
// locale: fr-CA falls back to the French file, de-DE and no locale to the English default; a
// customer name with markup is escaped in the HTML part only; a store-scoped offer's template reads
// the store's facts; a template without an html part sends text only; a template that exceeds the render
// limit is logged with CPW509 and the shipped generic-offer is sent instead.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offerIdOf } from '../../../src/actions/offer-id.js';
import { OfferEvent } from '../../../src/actions/offer-schema.js';
import type { EmailResult } from '../../../src/adapters/smtp/email-worker.js';
import type { FactsReader } from '../../../src/pipeline/latest-facts.js';
import type { RuleSet } from '../../../src/rules/compiled.js';
import { loadRuleSet } from '../../../src/rules/load.js';
import { startEmailChannel, type EmailChannel } from '../../support/email-channel.js';
import { produce, waitFor, type CapturedMail, type TestSmtpServer } from '../../support/index.js';

const T = '2026-11-23T18:06:00.000Z';

function offer(ruleId: string, customerId: string, scope = { dimension: 'region', value: 'north' }) {
  const id = offerIdOf(ruleId, customerId, `${scope.dimension}=${scope.value}`, Date.parse(T));
  return OfferEvent.parse({
    specversion: '1.0', id, source: 'urn:cpiwatch:rules', type: 'cpiwatch.offer.v1', time: T, subject: customerId,
    datacontenttype: 'application/json', dataschema: 'urn:cpiwatch:schema:offer:v1',
    data: {
      schemaVersion: 1, offerId: id, customerId,
      rule: { id: ruleId, version: 'v-test' },
      trigger: { cpi: 'order-to-shipped', aggregate: 'avg', value: 61.4, direction: 'above', threshold: 48, scope, episodeStartedAt: T },
      offer: { kind: 'free-shipping', code: 'SHIPFREE', title: 'Free shipping on your next order', terms: 'One order within 30 days.', issuedAt: T, expiresAt: '2026-12-23T18:06:00.000Z' },
      channels: { email: true },
    },
  });
}

/** Customer id (or the tag of a store) -> its facts: address, name, locale; a store's name and time zone. */
const CUSTOMERS: Record<string, Record<string, string>> = {
  'C-fr-ca': { email: 'zoe@example.com', name: 'Zoe', locale: 'fr-CA' },
  'C-de': { email: 'jonas@example.com', name: 'Jonas', locale: 'de-DE' },
  'C-none': { email: 'sam@example.com', name: '<b>Sam</b>' },
  'C-runaway': { email: 'kim@example.com', name: 'Kim', locale: 'en' },
  'C-store': { email: 'lee@example.com', name: 'Lee' },
  'storeId=S1': { storeId: 'S1', name: 'Springfield Mall', timeZone: 'America/Chicago' },
};

describe('e-mail channel with Liquid templates from the rules folder', () => {
  const facts: FactsReader = { readFacts: async (tags) => tags.map((t) => Object.entries(CUSTOMERS).find(([id]) => t.endsWith(id))?.[1] ?? null) };
  const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-email-templates-'));
  let ruleSet: RuleSet;
  let channel: EmailChannel;
  let topic: string, smtp: TestSmtpServer, results: EmailResult[], logLines: Record<string, unknown>[];

  beforeAll(async () => {
    for (const f of ['fulfilment.yaml', 'policy.yaml', 'templates']) cpSync(join('rules', f), join(dir, f), { recursive: true });
    writeFileSync(join(dir, 'templates', 'store-note.liquid'), '--- subject\nSorry about the wait at {{ store.name }}\n--- text\n{{ store.name }} ({{ store.timeZone }}), region: {{ store.region | default: "none" }}\n');
    writeFileSync(join(dir, 'templates', 'runaway.liquid'), '--- subject\nx\n--- text\n{% for i in (1..100000) %}{% for j in (1..100000) %}x{% endfor %}{% endfor %}\n');
    const loaded = await loadRuleSet([dir]);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    ruleSet = loaded.ruleSet;
    const actions = new Map<string, { template: string; subject?: string }>([['runaway-rule', { template: 'runaway' }], ['store-rule', { template: 'store-note' }]]);
    for (const r of ruleSet.rules) if (r.email) actions.set(r.id, r.email);
    channel = await startEmailChannel('email-templates', { facts, emailActions: () => actions, templates: () => ruleSet.templates });
    ({ topic, smtp, results, logLines } = channel);
  });

  afterAll(async () => {
    await channel?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends each customer the translation of their locale, escaping only the HTML part', async () => {
    expect(ruleSet.rules.find((r) => r.id === 'slow-shipping-voucher')?.email).toEqual({ template: 'shipping-apology' });
    expect(ruleSet.templates?.locales('shipping-apology')).toEqual(['', 'fr']);
    await produce(topic, ['C-fr-ca', 'C-de', 'C-none'].map((c) => ({ value: offer('slow-shipping-voucher', c) })));
    const mails = await smtp.waitForMessages(3, 30_000);
    const to = (address: string) => mails.find((m) => m.to.includes(address))!;
    const french: CapturedMail = to('zoe@example.com');
    expect(french.subject).toBe('Zoe, pardon pour le retard de votre commande');
    expect(french.body).toContain('Bonjour Zoe,');
    expect(french.body).toContain('Utilisez le code SHIPFREE avant le 23/12/2026.');
    expect(french.body).toContain('<html lang=3D"fr">'); // quoted-printable of lang="fr"
    expect(to('jonas@example.com').subject).toBe('Jonas, sorry your order is taking so long');
    expect(to('jonas@example.com').body).toContain('Use the code SHIPFREE before December 23, 2026.');
    const sam = to('sam@example.com');
    expect(sam.subject).toBe('<b>Sam</b>, sorry your order is taking so long');
    expect(sam.body).toContain('Hi <b>Sam</b>,'); // the text part
    expect(sam.body).toContain('<p>Hi &lt;b&gt;Sam&lt;/b&gt;,</p>'); // the HTML part
    expect(results).toEqual(['sent', 'sent', 'sent']);
  });

  it('a store-scoped offer reads the store\'s facts for the store variables (text part only)', async () => {
    const before = results.length;
    await produce(topic, [{ value: offer('store-rule', 'C-store', { dimension: 'storeId', value: 'S1' }) }]);
    await waitFor(() => results.length > before, { timeoutMs: 30_000, what: 'the store-scoped offer' });
    const mail = smtp.messages.find((m) => m.to.includes('lee@example.com'))!;
    expect(mail.subject).toBe('Sorry about the wait at Springfield Mall');
    expect(mail.body.trim()).toBe('Springfield Mall (America/Chicago), region: none');
    expect(mail.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('a template over the render limit is logged with CPW509 and the generic offer is sent', async () => {
    await produce(topic, [{ value: offer('runaway-rule', 'C-runaway') }]);
    await waitFor(() => results.length >= 5, { timeoutMs: 30_000, what: 'the runaway template offer' });
    const mail = smtp.messages.find((m) => m.to.includes('kim@example.com'))!;
    expect(mail.subject).toBe('Free shipping on your next order');
    expect(mail.body).toContain('We noticed things did not go as well');
    const failed = logLines.filter((l) => l.code === 'CPW509');
    expect(failed.map((l) => l.template)).toEqual(['runaway']);
    expect(failed[0]!.msg).toMatch(/^e-mail template runaway failed to render for offer \S+: template render limit exceeded/);
  });
});
