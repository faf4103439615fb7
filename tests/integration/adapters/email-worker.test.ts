// The e-mail channel on the real broker, Redis and an SMTP server: records of the offers topic that
// are no offer (not JSON, not the offer schema, no value) are logged with CPW503, counted as
// `invalid` and skipped, and the next valid offer is sent; an offer seen again is not sent twice
// (its e-mail state is in the offer ledger); an offer without the e-mail channel sends nothing; a
// failed send is logged with CPW501 and retried.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offerIdOf } from '../../../src/actions/offer-id.js';
import { OfferEvent } from '../../../src/actions/offer-schema.js';
import type { EmailResult } from '../../../src/adapters/smtp/email-worker.js';
import type { FactsReader } from '../../../src/pipeline/latest-facts.js';
import { startEmailChannel, type EmailChannel } from '../../support/email-channel.js';
import { produce, waitFor, type TestSmtpServer } from '../../support/index.js';

const T = '2026-11-23T18:06:00.000Z';

function offer(customerId: string, email = true) {
  const id = offerIdOf('curbside-flash-drink', customerId, 'storeId=S1', Date.parse(T));
  return OfferEvent.parse({
    specversion: '1.0', id, source: 'urn:cpiwatch:rules', type: 'cpiwatch.offer.v1', time: T, subject: customerId,
    datacontenttype: 'application/json', dataschema: 'urn:cpiwatch:schema:offer:v1',
    data: {
      schemaVersion: 1, offerId: id, customerId,
      rule: { id: 'curbside-flash-drink', version: 'v-test' },
      trigger: { cpi: 'curbside-wait-vs-promise', aggregate: 'p90', value: 1.6, direction: 'above', threshold: 1.25, scope: { dimension: 'storeId', value: 'S1' }, episodeStartedAt: T },
      offer: { kind: 'complimentary-drink', code: 'CURBSIDE-DRINK', title: 'A drink on us', issuedAt: T, expiresAt: '2026-11-23T20:06:00.000Z' },
      channels: { email },
    },
  });
}

describe('e-mail channel (offers topic -> SMTP)', () => {
  const facts: FactsReader = { readFacts: async (tags) => tags.map((t) => ({ email: `${t.replace(/\W+/g, '-')}@example.com`, name: 'Ana' })) };
  let channel: EmailChannel;
  let topic: string, smtp: TestSmtpServer, results: EmailResult[], logLines: Record<string, unknown>[], store: EmailChannel['store'];

  beforeAll(async () => {
    channel = await startEmailChannel('email-worker', { facts, emailActions: () => new Map([['curbside-flash-drink', { template: 'complimentary-drink' }]]) });
    ({ topic, smtp, results, logLines, store } = channel);
  });

  afterAll(async () => {
    await channel?.stop();
  });

  it('skips and counts records that are no offer, then sends the next valid offer once', async () => {
    const valid = offer('C-valid');
    const { customerId: _dropped, ...withoutCustomer } = offer('C-bad').data;
    await produce(topic, [
      '{"specversion": "1.0", not json',
      { value: { ...offer('C-bad'), data: withoutCustomer } },
      { value: null },
      { value: valid },
      { value: offer('C-no-email', false) },
      { value: valid }, // redelivered: already sent
    ]);
    await waitFor(() => results.length >= 5, { timeoutMs: 30_000, what: `results of the records (got ${results.join(',')})` });
    expect(results).toEqual(['invalid', 'invalid', 'invalid', 'sent', 'duplicate']);
    const [mail] = await smtp.waitForMessages(1);
    expect(smtp.messages).toHaveLength(1);
    expect(mail!.headers['x-cpiwatch-offer-id']).toBe(valid.id);
    expect(mail!.to).toEqual(['customerId-C-valid@example.com']);
    expect(await store.emailState(valid.id)).toEqual({ status: 'sent' });

    const skipped = logLines.filter((l) => l.code === 'CPW503');
    expect(skipped.map((l) => [l.topic, l.offset])).toEqual([[topic, '0'], [topic, '1'], [topic, '2']]);
    expect(skipped[0]!.msg).toMatch(new RegExp(`^record ${topic.replace(/\./g, '\\.')}\\[0\\]@0 of the offers topic is not a cpiwatch\\.offer\\.v1 event, skipped \\(no e-mail\\): the Kafka value: `));
    expect(skipped[1]!.reason).toBe('data.customerId: missing (expected string)');
    expect(skipped[2]!.reason).toBe('the record has no value');
  });

  it('logs a failed send with CPW501 and sends on the next attempt', async () => {
    const before = results.length;
    const next = offer('C-retry');
    smtp.failNext(1);
    await produce(topic, [{ value: next }]);
    await waitFor(() => results.length >= before + 2, { timeoutMs: 30_000, what: 'a failed attempt and a sent one' });
    expect(results.slice(before)).toEqual(['failed', 'sent']);
    expect(smtp.messages.map((m) => m.headers['x-cpiwatch-offer-id'])).toEqual([offer('C-valid').id, next.id]);
    expect(logLines.filter((l) => l.code === 'CPW501').map((l) => [l.offerId, l.attempt, l.msg])).toEqual([[next.id, 1, 'offer e-mail failed']]);
  });
});
