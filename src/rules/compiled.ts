/**
 * The runtime form of rule files: durations in milliseconds, references resolved, versions computed.
 * Produced by compile.ts from validated documents; consumed by the pipeline. Plain data only.
 */
import type { EmailTemplates } from '../actions/email/template-library.js';
import type { EventTypeRegistry } from '../events/registry.js';
import type { AggregateName, ConditionDoc } from './schema.js';

export type Predicate = Readonly<Record<string, ConditionDoc>>;

export interface SourcePosition { file: string; line: number; col: number }

export interface EventMatcher { event: string; where?: Predicate }
export interface CorrelatedMatcher extends EventMatcher { correlate: string }

export type CpiMeasure =
  | {
      kind: 'duration';
      start: CorrelatedMatcher;
      end: CorrelatedMatcher;
      /** Field of the start event with the expected duration in seconds. */
      relativeTo?: string;
      /** Fact of the scope entity with the expected duration in seconds (fallback for relativeTo). */
      expectedFromScope?: string;
      defaultExpectedMs?: number;
      maxPendingMs: number;
      /** Divisor turning milliseconds into the CPI's unit (1000 for seconds); ignored when relative. */
      unitMs: number;
    }
  | { kind: 'value'; event: string; field: string; where?: Predicate }
  | { kind: 'ratio'; numerator: EventMatcher; denominator: EventMatcher };

export interface CompiledCpi {
  id: string;
  description?: string;
  unit?: string;
  measure: CpiMeasure;
  /** Field of the event data naming the scope, e.g. storeId. */
  groupBy: string;
  windowMs: number;
  resolutionMs: number;
  latenessMs: number;
  /**
   * Only the events of customers whose facts, as of the event, match: checked at the scope's owner
   * once the customer's facts at that time are final (pipeline/fact-checks.ts).
   */
  customers?: Predicate;
  position?: SourcePosition;
}

export type RuleTarget =
  | { kind: 'enRoute'; withinMs: number }
  | {
      kind: 'contributors';
      withinMs: number;
      where?: Predicate;
      /** Name of the audience index: the CPI id, or "<cpi>.<rule>" for a rule with its own `where`. */
      audience: string;
    }
  | { kind: 'scopeCustomer' };

export interface CompiledGuardrails {
  cooldownMs?: number;
  budget?: { max: number; perMs: number };
  quietHours?: { fromMinute: number; toMinute: number; timeZone: 'scope' | string };
  holdoutPercent: number;
  killSwitch: boolean;
}

export interface CompiledOffer {
  kind: string;
  code: string;
  title: string;
  terms?: string;
  /** Offer texts from a template (templates/<name>.liquid, `--- title` and `--- terms`); title and terms are the fallback. */
  template?: string;
  expiresAfterMs: number;
  redemption?: { channel: string; instructions?: string };
}

/** What a trend compares the CPI with (rules/schema.ts `compare`). */
export type CompareTo =
  /** The recorded value `offsetMs` earlier (previousWindow: the window; sameTimeYesterday: 24 h; ...). */
  | { kind: 'offset'; offsetMs: number; name: string }
  /** The avg or median of the values recorded over the last `periodMs` (before the current close). */
  | { kind: 'baseline'; periodMs: number; of: 'avg' | 'median'; name: string };

export interface CompiledCompare {
  to: CompareTo;
  /** ratio: current / earlier; difference: current - earlier. The threshold applies to this. */
  as: 'ratio' | 'difference';
  /** Recorded values with fewer samples are no baseline (too few samples, so no breach). */
  minSamples: number;
}

/**
 * One condition of a rule: an aggregate of a CPI against a threshold (optionally the aggregate
 * compared with its own earlier value). A rule has one (the v1 form) or several (`when`).
 */
export interface CompiledCondition {
  cpi: CompiledCpi;
  aggregate: AggregateName;
  direction: 'above' | 'below';
  threshold: number;
  clear: number;
  minSamples: number;
  compare?: CompiledCompare;
}

/** A tier of a rule (threshold `tiers`): its own lines, for the customers whose facts match `when`. */
export interface CompiledTier {
  when: Predicate;
  /** The rule's conditions with this tier's thresholds (a condition without tiers keeps its own). */
  conditions: readonly CompiledCondition[];
}

export interface CompiledRule {
  id: string;
  /** Content hash of the rule and of its CPI: changes whenever either is edited. */
  version: string;
  description?: string;
  /**
   * The rule's first condition's CPI, aggregate, threshold, clear and minSamples (the only ones of a
   * v1 rule): the scope, the target's audience and the reports read these. `conditions` decides.
   */
  cpi: CompiledCpi;
  aggregate: AggregateName;
  direction: 'above' | 'below';
  threshold: number;
  /** Hysteresis: a firing rule clears only once the value is back past this line. */
  clear: number;
  forMs: number;
  minSamples: number;
  /** all: the rule breaches while every condition does; any: while one does (rules/evaluate.ts). */
  match: 'all' | 'any';
  /** At least one; all on CPIs of the same groupBy and resolution (cross-checks). */
  conditions: readonly CompiledCondition[];
  /**
   * Tiers 1..n (tiers[0] is tier 1; tier 0 is `conditions`, for every other customer): a state
   * machine and episodes per tier and scope, a candidate offered only to customers of its tier.
   */
  tiers?: readonly CompiledTier[];
  target: RuleTarget;
  filter?: Predicate;
  guardrails: CompiledGuardrails;
  offer: CompiledOffer;
  email?: { template: string; subject?: string };
  position?: SourcePosition;
}

export interface CompiledPolicy {
  customerCooldownMs?: number;
  frequencyCap?: { max: number; perMs: number };
  killSwitch: boolean;
  defaultTimeZone: string;
}

export interface RuleSet {
  cpis: ReadonlyMap<string, CompiledCpi>;
  rules: readonly CompiledRule[];
  policy: CompiledPolicy;
  /** Hash of every rule version (and of the folder's templates): identifies a loaded rule set in logs and metrics. */
  version: string;
  /** The e-mail templates, parsed once per rule set (loaded from disk; absent: the shipped ones). */
  templates?: EmailTemplates;
  /** The event types: the shipped library and the folder's declarations (absent: the library alone). */
  eventTypes?: EventTypeRegistry;
}
