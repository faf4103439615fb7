/**
 * What reading a rule file hands to compilation: its errors, its CPIs, rules and policy (ids and,
 * when valid, documents), and the positions of its field paths; and what compiling a set of them
 * gives back.
 */
import type { EventTypeDeclarationDoc } from '../events/declaration-schema.js';
import type { RuleSet } from './compiled.js';
import type { RuleError } from './rule-errors.js';
import type { CpiDefinitionDoc, PolicyDoc, RuleDefinitionDoc } from './schema.js';
import type { Locator } from './yaml-positions.js';

/** A CPI, rule or policy of a file: its id when it has one, its document when it is valid. */
export interface ParsedItem<T> {
  index: number;
  id?: string;
  doc?: T;
  /** The item as written (plain data from YAML), for the reference checks of an invalid item. */
  raw?: unknown;
}

export interface ParsedRuleFile {
  file: string;
  /** YAML and schema errors of this file. */
  errors: RuleError[];
  cpis: ParsedItem<CpiDefinitionDoc>[];
  rules: ParsedItem<RuleDefinitionDoc>[];
  policy?: ParsedItem<PolicyDoc>;
  /** Event type declarations (`eventTypes:`), each with its type name as id. */
  eventTypes?: ParsedItem<EventTypeDeclarationDoc>[];
  locate: Locator;
}

export type RuleSetResult =
  | { ok: true; ruleSet: RuleSet; files: string[]; warnings: RuleError[] }
  | { ok: false; errors: RuleError[]; files: string[]; warnings: RuleError[] };
