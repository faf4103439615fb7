// The shipped templates (src/actions/email/builtin/*.liquid) render exactly what the TypeScript
// templates they replaced rendered, for the same inputs: `reference` below is that code as it was.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { escapeHtml, headerSafe, renderEmail, shippedTemplateNames } from '../../../../src/actions/email/templates.js';
import type { OfferData } from '../../../../src/actions/offer-event.js';

function reference(template: string, offer: OfferData, customerName?: string, subject?: string) {
  const o = offer.offer;
  const expires = new Date(o.expiresAt).toUTCString();
  const intro = template === 'complimentary-drink'
    ? 'Pickups at the store you are heading to are taking longer than we promised. We are sorry, and we would like to make it up to you.'
    : 'We noticed things did not go as well as they should have, and we would like to make it up to you.';
  const parts = [customerName ? `Hi ${customerName},` : 'Hi,', '', intro, '', o.title, ...(o.terms ? [o.terms] : []), ...(o.redemption?.instructions ? [o.redemption.instructions] : []), '', `Code: ${o.code} (valid until ${expires})`];
  const html = `<!doctype html><html><body>${parts.map((p) => (p === '' ? '' : `<p>${escapeHtml(p)}</p>`)).join('')}</body></html>`;
  const fallback = template === 'complimentary-drink' ? 'Sorry for the wait - your next drink is on us' : o.title;
  return { subject: headerSafe(subject ?? fallback), text: parts.join('\n'), html };
}

const offerOf = (over: Partial<OfferData['offer']>): OfferData => ({
  schemaVersion: 1, offerId: 'o-1', customerId: 'c1', rule: { id: 'r1', version: 'v1' },
  trigger: { cpi: 'wait', aggregate: 'p90', value: 1.6, direction: 'above', threshold: 1.25, scope: { dimension: 'storeId', value: 'S1' }, episodeStartedAt: '2026-11-23T18:00:00.000Z' },
  offer: { kind: 'complimentary-drink', code: 'CURBSIDE-DRINK', title: 'A drink on us', issuedAt: '2026-11-23T18:06:00.000Z', expiresAt: '2026-11-23T20:06:00.000Z', ...over },
  channels: { email: true },
});

const cases: [string, Partial<OfferData['offer']>, string | undefined, string | undefined][] = [
  ['no terms, no name', {}, undefined, undefined],
  ['terms, redemption, name, subject', { terms: 'One drink of any size.', redemption: { channel: 'store-bar', instructions: 'Show this at the bar.' } }, 'Ana', 'Sorry, Ana'],
  ['markup everywhere', { title: 'Free <b>drink</b> & "more"', terms: "it's <img src=x>" }, '<script>alert("x")</script>', 'Sorry\r\nBcc: x@example.com'],
  ['redemption without instructions, title with a line break', { title: 'Hello\nX-Injected: 1', redemption: { channel: 'store-bar' } }, '', undefined],
];

describe('shipped e-mail templates', () => {
  it('are complimentary-drink and generic-offer, and ship in the package (the image reads them from src/)', () => {
    expect(shippedTemplateNames()).toEqual(['complimentary-drink', 'generic-offer']);
    expect((JSON.parse(readFileSync('package.json', 'utf8')) as { files: string[] }).files).toEqual(expect.arrayContaining(['src/actions/email/builtin', 'rules']));
  });

  for (const template of ['complimentary-drink', 'generic-offer']) {
    it.each(cases)(`${template}: the same subject, text and html as before (%s)`, (_name, over, customerName, subject) => {
      const offer = offerOf(over);
      const mail = renderEmail(template, { offer, facts: customerName === undefined ? {} : { name: customerName }, ...(subject === undefined ? {} : { subject }) })!;
      expect({ subject: mail.subject, text: mail.text, html: mail.html }).toEqual(reference(template, offer, customerName, subject));
    });
  }
});
