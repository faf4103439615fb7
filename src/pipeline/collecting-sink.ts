/** An ActionSink that keeps everything in memory (backtests, rule tests, unit tests). */
import type { Decision } from '../actions/decision.js';
import type { ActionSink, DeadLetter } from './types.js';

export class CollectingSink implements ActionSink {
  readonly decisions: Decision[] = [];
  readonly deadLetters: DeadLetter[] = [];

  async publish(decisions: Decision[]): Promise<void> {
    this.decisions.push(...decisions);
  }

  async deadLetter(letters: DeadLetter[]): Promise<void> {
    this.deadLetters.push(...letters);
  }

  get offers(): Decision[] {
    return this.decisions.filter((d) => d.outcome === 'offered');
  }
}
