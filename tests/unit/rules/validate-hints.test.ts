/**
 * The "did you mean" hints of `validate` for the mistakes marketers make (issue 12, the smaller
 * validate misses): each one an exact line `file:line:col: CODE message (at path)`.
 */
import { describe, expect, it } from 'vitest';
import { compileRuleSources } from '../../../src/rules/load.js';
import { formatRuleError } from '../../../src/rules/rule-errors.js';
import { durationHint, timeOfDayHint } from '../../../src/rules/value-hints.js';

/** A ratio CPI and a rule on it; line numbers below count from the first line of this text. */
const RULES = `cpis:
  - id: damaged-share
    measure:
      ratio:
        numerator: { event: delivery.completed, where: { damaged: true } }
        denominator: { event: delivery.completed }
    groupBy: region
    window: 1d
    resolution: 1h
rules:
  - id: damaged-credit
    cpi: damaged-share
    aggregate: ratio
    threshold: { above: 0.05, clear: 0.03 }
    target: { contributors: { where: { damaged: true } } }
    filter: { lifetimeValue: { gte: 100 } }
    guardrails:
      cooldown: 30d
      quietHours: { from: "21:00", to: "08:00", timeZone: America/Chicago }
      holdoutPercent: 10
    offer:
      kind: damaged-credit
      code: DAMAGED-CREDIT
      title: Sorry about your parcel
      expiresAfter: 30d
    email: { template: generic-offer, subject: Sorry about your parcel }
`;

/** The errors and warnings of RULES with `from` replaced by `to` (exactly once). */
function problems(from: string, to: string, text = RULES): string[] {
  expect(text.split(from), `"${from}" once in the rule text`).toHaveLength(2);
  const result = compileRuleSources([{ file: 'hints.yaml', text: text.replace(from, to) }]);
  return [...(result.ok ? [] : result.errors), ...result.warnings].map(formatRuleError);
}

describe('validate hints', () => {
  it('the base text is valid', () => {
    expect(problems('window: 1d', 'window: 1d')).toEqual([]);
  });

  describe('durations', () => {
    it('a last part written without its unit takes the unit after the one before it: 7h30 -> 7h30m', () => {
      expect(problems('window: 1d', 'window: 7h30')).toEqual([
        'hints.yaml:8:13: CPW301 expected a duration such as "90s", "15m", "2h" or "1h30m", found "7h30" (did you mean "7h30m"?) (at cpis[0].window)',
      ]);
      expect(problems('cooldown: 30d', 'cooldown: 1d12')).toEqual([
        'hints.yaml:18:17: CPW301 expected a duration such as "90s", "15m", "2h" or "1h30m", found "1d12" (did you mean "1d12h"?) (at rules[0].guardrails.cooldown)',
      ]);
    });

    it('a bare number is ambiguous: the hint names the units instead of guessing one', () => {
      expect(problems('window: 1d', 'window: 90')).toEqual([
        'hints.yaml:8:13: CPW301 expected a duration such as "90s", "15m", "2h" or "1h30m", found 90 (a duration needs a unit: ms, s, m, h or d, e.g. "90s" or "90m") (at cpis[0].window)',
      ]);
      expect(problems('window: 1d', 'window: "90"')).toEqual([
        'hints.yaml:8:13: CPW301 expected a duration such as "90s", "15m", "2h" or "1h30m", found "90" (a duration needs a unit: ms, s, m, h or d, e.g. "90s" or "90m") (at cpis[0].window)',
      ]);
    });

    it('reads words, spaces, fractions and weeks', () => {
      expect(durationHint('1 hour 30 minutes')).toBe(' (did you mean "1h30m"?)');
      expect(durationHint('1h 30m')).toBe(' (did you mean "1h30m"?)');
      expect(durationHint('1 hour and 30')).toBe(' (did you mean "1h30m"?)');
      expect(durationHint('1m30')).toBe(' (did you mean "1m30s"?)');
      expect(durationHint('2s500')).toBe(' (did you mean "2s500ms"?)');
      expect(durationHint('1.5h')).toBe(' (did you mean "1h30m"?)');
      expect(durationHint('2 weeks')).toBe(' (did you mean "14d"?)');
      expect(durationHint('15 Minutes')).toBe(' (did you mean "15m"?)');
      expect(durationHint(0)).toBe(' (did you mean "0s"?)');
      expect(durationHint(1.5)).toBe(' (a duration needs a unit: ms, s, m, h or d)');
      // not one reading: no guess
      for (const v of ['1M', '30 1h', '1ms5', '1:30', 'soon', '15 minutes ago', `${'1'.repeat(80)}h`]) expect(durationHint(v), v).toBe('');
    });
  });

  describe('times of day', () => {
    it('"8:00" -> "08:00": times are HH:MM', () => {
      expect(problems('to: "08:00"', 'to: "8:00"')).toEqual([
        'hints.yaml:19:40: CPW301 expected a time of day such as "21:30", found "8:00" (did you mean "08:00"?) (at rules[0].guardrails.quietHours.to)',
      ]);
      expect(problems('to: "08:00"', 'to: 8:00')).toEqual([
        'hints.yaml:19:40: CPW301 expected a time of day such as "21:30", found "8:00" (did you mean "08:00"?) (at rules[0].guardrails.quietHours.to)',
      ]);
      expect(problems('from: "21:00"', 'from: 9pm')).toEqual([
        'hints.yaml:19:27: CPW301 expected a time of day such as "21:30", found "9pm" (did you mean "21:00"?) (at rules[0].guardrails.quietHours.from)',
      ]);
    });

    it('reads 12-hour clocks, dots and four digits; a number is an hour', () => {
      expect(timeOfDayHint('7am')).toBe(' (did you mean "07:00"?)');
      expect(timeOfDayHint('9.30 p.m.')).toBe(' (did you mean "21:30"?)');
      expect(timeOfDayHint('12am')).toBe(' (did you mean "00:00"?)');
      expect(timeOfDayHint('12pm')).toBe(' (did you mean "12:00"?)');
      expect(timeOfDayHint('2200')).toBe(' (did you mean "22:00"?)');
      expect(timeOfDayHint('7h30')).toBe(' (did you mean "07:30"?)');
      expect(timeOfDayHint('22:00:00')).toBe(' (did you mean "22:00"?)');
      expect(timeOfDayHint(8)).toBe(' (did you mean "08:00"?)');
      for (const v of ['24:00', '7:75', '13pm', 'noon', 25, 7.5]) expect(timeOfDayHint(v), String(v)).toBe('');
    });
  });

  describe('percentages where a number is expected', () => {
    it('a threshold of a ratio CPI: 5% -> 0.05 (above, below and clear)', () => {
      expect(problems('{ above: 0.05, clear: 0.03 }', '{ above: 5%, clear: 3 % }')).toEqual([
        'hints.yaml:14:25: CPW301 expected a number, found "5%" (did you mean 0.05? the ratio of "damaged-share" is a share from 0 to 1) (at rules[0].threshold.above)',
        'hints.yaml:14:36: CPW301 expected a number, found "3 %" (did you mean 0.03? the ratio of "damaged-share" is a share from 0 to 1) (at rules[0].threshold.clear)',
      ]);
      expect(problems('{ above: 0.05, clear: 0.03 }', '{ below: 12.5% }')).toEqual([
        'hints.yaml:14:25: CPW301 expected a number, found "12.5%" (did you mean 0.125? the ratio of "damaged-share" is a share from 0 to 1) (at rules[0].threshold.below)',
      ]);
      expect(problems('aggregate: ratio\n    threshold: { above: 0.05, clear: 0.03 }', 'aggregate: count\n    threshold: { above: 5% }')).toEqual([
        'hints.yaml:14:25: CPW301 expected a number, found "5%" (the count of "damaged-share" is a number of events: write it without "%") (at rules[0].threshold.above)',
      ]);
    });

    it('a threshold of a duration relative to a promise: 125% -> 1.25; 25% is said both ways', () => {
      const relative = RULES.replace(/ {4}measure:\n(?: {6,}.*\n)+/, `    measure:
      duration:
        start: { event: curbside.arrived, correlate: orderId }
        end: { event: curbside.handed-over, correlate: orderId }
        relativeTo: promisedWaitSeconds
`).replace('groupBy: region', 'groupBy: storeId').replace('aggregate: ratio', 'aggregate: p90').replace('{ contributors: { where: { damaged: true } } }', '{ enRoute: {} }');
      expect(problems('{ above: 0.05, clear: 0.03 }', '{ above: 1.25, clear: 1 }', relative)).toEqual([]);
      expect(problems('{ above: 0.05, clear: 0.03 }', '{ above: 125% }', relative)).toEqual([
        'hints.yaml:15:25: CPW301 expected a number, found "125%" (did you mean 1.25? samples of "damaged-share" are the actual duration over the expected one, 1 is as promised) (at rules[0].threshold.above)',
      ]);
      expect(problems('{ above: 0.05, clear: 0.03 }', '{ above: 25% }', relative)).toEqual([
        'hints.yaml:15:25: CPW301 expected a number, found "25%" (samples of "damaged-share" are the actual duration over the expected one, 1 is as promised: 25% over the promise is 1.25, 25% of it 0.25) (at rules[0].threshold.above)',
      ]);
    });

    it('a threshold of a CPI in its own unit: no number guessed, the unit named', () => {
      const minutes = RULES.replace(/ {4}measure:\n(?: {6,}.*\n)+/, `    measure:
      duration:
        start: { event: order.placed, correlate: orderId }
        end: { event: order.shipped, correlate: orderId }
        unit: hours
`).replace('aggregate: ratio', 'aggregate: avg').replace('{ contributors: { where: { damaged: true } } }', '{ contributors: {} }');
      expect(problems('{ above: 0.05, clear: 0.03 }', '{ above: 5% }', minutes)).toEqual([
        'hints.yaml:15:25: CPW301 expected a number, found "5%" (a threshold of "damaged-share" is a number in its unit, hours, without "%") (at rules[0].threshold.above)',
      ]);
    });

    it('holdoutPercent is in percent already: 10% -> 10; a number in quotes loses them', () => {
      expect(problems('holdoutPercent: 10', 'holdoutPercent: 10%')).toEqual([
        'hints.yaml:20:23: CPW301 expected a number, found "10%" (did you mean 10? holdoutPercent is in percent already) (at rules[0].guardrails.holdoutPercent)',
      ]);
      expect(problems('{ above: 0.05, clear: 0.03 }', '{ above: "0.05" }')).toEqual([
        'hints.yaml:14:25: CPW301 expected a number, found "0.05" (did you mean 0.05? write numbers without quotes) (at rules[0].threshold.above)',
      ]);
    });
  });

  describe('time zones', () => {
    it('a city\'s name, in any case and with spaces for underscores, names its IANA zone', () => {
      expect(problems('timeZone: America/Chicago', 'timeZone: New York')).toEqual([
        'hints.yaml:19:59: CPW315 unknown time zone "New York" (did you mean "America/New_York"?) (at rules[0].guardrails.quietHours.timeZone)',
      ]);
      expect(problems('timeZone: America/Chicago', 'timeZone: america/new york')).toEqual([
        'hints.yaml:19:59: CPW315 unknown time zone "america/new york" (did you mean "America/New_York"?) (at rules[0].guardrails.quietHours.timeZone)',
      ]);
      expect(problems('window: 1d', 'window: 1d', `${RULES}policy: { defaultTimeZone: london }\n`)).toEqual([
        'hints.yaml:27:28: CPW315 unknown time zone "london" (did you mean "Europe/London"?) (at policy.defaultTimeZone)',
      ]);
    });

    it('near misses of a zone or a city, accents, and the US zones by their common names', () => {
      const zone = (z: string) => problems('timeZone: America/Chicago', `timeZone: ${JSON.stringify(z)}`)[0]?.replace(/^.*unknown time zone /, '').replace(/ \(at .*$/, '');
      expect(zone('America/Chicgo')).toBe('"America/Chicgo" (did you mean "America/Chicago"?)');
      expect(zone('New Yrok')).toBe('"New Yrok" (did you mean "America/New_York"?)');
      expect(zone('São Paulo')).toBe('"São Paulo" (did you mean "America/Sao_Paulo"?)');
      expect(zone('Pacific Time')).toBe('"Pacific Time" (did you mean "America/Los_Angeles"?)');
      expect(zone('somewhere')).toBe('"somewhere"');
    });
  });

  describe('fields of the customer\'s facts', () => {
    it('a filter field that is a word of a known fact suggests that fact: tier -> valueTier', () => {
      expect(problems('filter: { lifetimeValue: { gte: 100 } }', 'filter: { tier: { in: [gold, platinum] } }')).toEqual([
        'hints.yaml:16:15: CPW314 customer facts (event type customer.profile) have no field "tier" (did you mean "valueTier"?) (at rules[0].filter.tier)',
      ]);
      expect(problems('filter: { lifetimeValue: { gte: 100 } }', 'filter: { customer_email: { exists: true } }')).toEqual([
        'hints.yaml:16:15: CPW314 customer facts (event type customer.profile) have no field "customer_email" (did you mean "email"?) (at rules[0].filter.customer_email)',
      ]);
      expect(problems('filter: { lifetimeValue: { gte: 100 } }', 'filter: { lifetime: { gte: 100 } }')).toEqual([
        'hints.yaml:16:15: CPW314 customer facts (event type customer.profile) have no field "lifetime" (did you mean "lifetimeValue"?) (at rules[0].filter.lifetime)',
      ]);
    });
  });

  describe('placeholders in texts the customer reads', () => {
    it('{{ first_name }} in the e-mail subject: nothing fills it, an error at the placeholder', () => {
      expect(problems('subject: Sorry about your parcel', 'subject: "Sorry {{ first_name }}, about your parcel"')).toEqual([
        'hints.yaml:26:55: CPW322 placeholder "{{ first_name }}" in the e-mail subject is never filled: cpiwatch sends rule texts exactly as written, so customers would read it (did you mean "Sorry, about your parcel"? e-mails already open with "Hi <name>," from the customer\'s profile); to fill it, write the subject in an e-mail template, templates/<name>.liquid (docs/rules.md, "Templates") (at rules[0].email.subject)',
      ]);
    });

    it('a placeholder naming a field of the offer suggests its value; every text of the offer is checked', () => {
      expect(problems('title: Sorry about your parcel', 'title: Your code {{ offer.code }} for {{ parcel_id }}')).toEqual([
        'hints.yaml:24:24: CPW322 placeholder "{{ offer.code }}" in the offer title is never filled: cpiwatch sends rule texts exactly as written, so customers would read it (did you mean "Your code DAMAGED-CREDIT for"?); to fill it, write the title in a template named by offer.template, templates/<name>.liquid with "--- title" (docs/rules.md, "Templates") (at rules[0].offer.title)',
        'hints.yaml:24:45: CPW322 placeholder "{{ parcel_id }}" in the offer title is never filled: cpiwatch sends rule texts exactly as written, so customers would read it (did you mean "Your code DAMAGED-CREDIT for"?); to fill it, write the title in a template named by offer.template, templates/<name>.liquid with "--- title" (docs/rules.md, "Templates") (at rules[0].offer.title)',
      ]);
      expect(problems('expiresAfter: 30d', 'expiresAfter: 30d\n      terms: "*|FNAME|*: valid for %%Days%% days"\n      redemption: { channel: online, instructions: "Use {code} at checkout" }')).toEqual([
        'hints.yaml:26:15: CPW322 placeholder "*|FNAME|*" in the offer terms is never filled: cpiwatch sends rule texts exactly as written, so customers would read it (did you mean "Valid for days"? e-mails already open with "Hi <name>," from the customer\'s profile); to fill it, write the terms in a template named by offer.template, templates/<name>.liquid with "--- terms" (docs/rules.md, "Templates") (at rules[0].offer.terms)',
        'hints.yaml:26:36: CPW322 placeholder "%%Days%%" in the offer terms is never filled: cpiwatch sends rule texts exactly as written, so customers would read it (did you mean "Valid for days"?); to fill it, write the terms in a template named by offer.template, templates/<name>.liquid with "--- terms" (docs/rules.md, "Templates") (at rules[0].offer.terms)',
        'hints.yaml:27:57: CPW322 placeholder "{code}" in the redemption instructions is never filled: cpiwatch sends rule texts exactly as written, so customers would read it (did you mean "Use DAMAGED-CREDIT at checkout"?) (at rules[0].offer.redemption.instructions)',
      ]);
    });

    it('a text that is nothing but a placeholder: no guess', () => {
      expect(problems('subject: Sorry about your parcel', 'subject: "{% if gold %}"')).toEqual([
        'hints.yaml:26:49: CPW322 placeholder "{% if gold %}" in the e-mail subject is never filled: cpiwatch sends rule texts exactly as written, so customers would read it; write the text without it; to fill it, write the subject in an e-mail template, templates/<name>.liquid (docs/rules.md, "Templates") (at rules[0].email.subject)',
      ]);
    });

    it('a word in braces reads as a placeholder; other braces, brackets and percent signs are text', () => {
      expect(problems('title: Sorry about your parcel', 'title: "Sorry {about} your parcel"')).toEqual([
        'hints.yaml:24:21: CPW322 placeholder "{about}" in the offer title is never filled: cpiwatch sends rule texts exactly as written, so customers would read it (did you mean "Sorry your parcel"?); to fill it, write the title in a template named by offer.template, templates/<name>.liquid with "--- title" (docs/rules.md, "Templates") (at rules[0].offer.title)',
      ]);
      expect(problems('title: Sorry about your parcel', 'title: "Sorry: 10% off [today], { } {10%} 100%%"')).toEqual([]);
    });
  });
});
