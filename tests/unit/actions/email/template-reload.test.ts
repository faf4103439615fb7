// Templates hot-reload with the rules (src/app/rules-watcher.ts): an edit of a template file is a
// new rule-set version whose e-mails use the new text; a template error on reload is rejected like a
// rule error, at the template's file:line:col, and the running rules and templates stay.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { OfferData } from '../../../../src/actions/offer-event.js';
import { watchProcessorRules, type ReloadResult, type RulesWatcher } from '../../../../src/app/rules-watcher.js';
import { formatRuleError } from '../../../../src/rules/rule-errors.js';
import { loadRuleSet } from '../../../../src/rules/load.js';
import { fakeProcessor } from '../../../support/rules-watcher.js';

const log = pino({ level: 'silent' });
let watcher: RulesWatcher | undefined;
let dir: string | undefined;
afterEach(async () => {
  await watcher?.stop();
  watcher = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

const offer = {
  schemaVersion: 1, offerId: 'o-1', customerId: 'c1', rule: { id: 'slow-shipping-voucher', version: 'v' },
  trigger: { cpi: 'order-to-shipped', aggregate: 'avg', value: 50, direction: 'above', threshold: 48, scope: { dimension: 'region', value: 'north' }, episodeStartedAt: '2026-11-23T18:00:00.000Z' },
  offer: { kind: 'free-shipping', code: 'SHIPFREE', title: 'Free shipping', issuedAt: '2026-11-23T18:00:00.000Z', expiresAt: '2026-12-23T18:00:00.000Z' },
  channels: { email: true },
} satisfies OfferData;

describe('templates on hot reload', () => {
  it('a template edit is a new version; a template error keeps the running rules and templates', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cpiwatch-templates-'));
    await cp('rules', dir, { recursive: true });
    const loaded = await loadRuleSet([dir]);
    if (!loaded.ok) throw new Error(loaded.errors.map(formatRuleError).join('\n'));
    const { p, counts } = fakeProcessor(loaded.ruleSet);
    const results: ReloadResult[] = [];
    let notify: (() => void) | undefined;
    watcher = watchProcessorRules(p, dir, log, { debounceMs: 50, timeoutMs: 20_000, onReload: (r) => { results.push(r); notify?.(); } });
    await watcher.start();
    const next = () => new Promise<void>((r) => { notify = r; });
    const subject = () => p.rules.templates!.render('shipping-apology', { offer, facts: { name: 'Zoe', locale: 'fr' } })!.subject;
    expect(subject()).toBe('Zoe, pardon pour le retard de votre commande');

    const file = join(dir, 'templates', 'shipping-apology.fr.liquid');
    const text = await readFile(file, 'utf8');
    let reloaded = next();
    await writeFile(file, text.replace('pardon pour le retard', 'toutes nos excuses pour le retard'));
    await reloaded;
    expect(results.at(-1)).toMatchObject({ result: 'ok', previousVersion: loaded.ruleSet.version });
    expect(subject()).toBe('Zoe, toutes nos excuses pour le retard de votre commande');
    const good = p.rules;

    reloaded = next();
    await writeFile(file, text.replace('{{ customer.name | default: "Bonjour" }}', '{{ customer.first_name }}'));
    await reloaded;
    const rejected = results.at(-1)!;
    expect(rejected.result).toBe('rejected');
    expect(rejected.result === 'rejected' && rejected.errors.map(formatRuleError)).toEqual([
      `${file}:8:4: CPW332 unknown template variable "customer.first_name" (did you mean "customer.name"?); the variables are listed in docs/rules.md, "Templates"`,
    ]);
    expect(p.rules).toBe(good);
    expect(subject()).toBe('Zoe, toutes nos excuses pour le retard de votre commande');

    reloaded = next();
    await rm(join(dir, 'templates', 'shipping-apology.liquid'));
    await reloaded;
    expect(results.at(-1)!.result === 'rejected' && (results.at(-1) as { errors: { code: string }[] }).errors.map((e) => e.code)).toEqual(['CPW334', 'CPW332']);
    expect(p.rules).toBe(good);
    expect(counts).toEqual(['ok', 'rejected', 'rejected']);
  });
});
