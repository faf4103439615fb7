import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, suggestionSuffix } from '../../../src/rules/did-you-mean.js';

describe('editDistance', () => {
  it('counts inserts, deletes, substitutions and swaps of neighbours', () => {
    expect(editDistance('threshold', 'threshold')).toBe(0);
    expect(editDistance('treshold', 'threshold')).toBe(1);
    expect(editDistance('thresholds', 'threshold')).toBe(1);
    expect(editDistance('thershold', 'threshold')).toBe(1); // swap
    expect(editDistance('p85', 'p95')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('didYouMean', () => {
  const keys = ['id', 'cpi', 'aggregate', 'threshold', 'for', 'minSamples', 'target', 'filter', 'guardrails', 'offer', 'email'];

  it('suggests the closest field, ignoring case', () => {
    expect(didYouMean('tresholds', keys)).toBe('threshold');
    expect(didYouMean('minsamples', keys)).toBe('minSamples');
    expect(didYouMean('gaurdrails', keys)).toBe('guardrails');
  });

  it('suggests a longer name the input starts with', () => {
    expect(didYouMean('holdout', ['cooldown', 'budget', 'quietHours', 'holdoutPercent', 'killSwitch'])).toBe('holdoutPercent');
  });

  it('suggests the one candidate sharing whole words with the input, when nothing is close', () => {
    const facts = ['valueTier', 'lifetimeValue', 'email', 'name', 'locale'];
    expect(didYouMean('tier', facts)).toBe('valueTier');
    expect(didYouMean('customer_email', facts)).toBe('email');
    expect(didYouMean('zone', ['from', 'to', 'timeZone'])).toBe('timeZone');
    expect(didYouMean('value', ['valueTier', 'lifetimeValue'])).toBe('valueTier'); // a prefix first
    expect(didYouMean('seconds', ['promisedWaitSeconds', 'durationSeconds'])).toBeUndefined(); // two: ambiguous
    expect(didYouMean('id', ['customerId'])).toBeUndefined(); // fewer than four letters
  });

  it('suggests nothing when nothing is close', () => {
    expect(didYouMean('colour', keys)).toBeUndefined();
    expect(didYouMean('xy', ['id'])).toBeUndefined();
  });

  it('allows more edits for longer words', () => {
    expect(didYouMean('curbside.arival', ['curbside.arrived', 'curbside.handed-over'])).toBe('curbside.arrived');
    expect(didYouMean('America/Chicgo', ['America/Chicago', 'America/Denver'])).toBe('America/Chicago');
  });

  it('formats a ready-to-append suffix', () => {
    expect(suggestionSuffix('quote.request', ['quote.requested'])).toBe(' (did you mean "quote.requested"?)');
    expect(suggestionSuffix('zzz', ['quote.requested'])).toBe('');
  });
});
