/** The state of one rule in one scope (see rules/evaluate.ts), kept by the scope's entity. */
export interface RuleState {
  status: 'inactive' | 'pending' | 'firing';
  /** When the current status began (event time). */
  since: number;
  /** Event time the current firing episode began; null when not firing. */
  episode: number | null;
  /** Rule version that last wrote this state. */
  version: string;
  /** The aggregate's value when the current episode fired. */
  firedValue?: number;
}
