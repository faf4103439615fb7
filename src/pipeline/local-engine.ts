/**
 * The engine in one process, for bounded input (backtests, rule tests, explain): one source routed
 * straight into one owner partition, with no Kafka in between, and the same stages `run` uses (route,
 * partition task, decide). At the end of the input, stream time goes to +Infinity: every timer
 * fires, as if the stream then stayed idle for good.
 */
import type { Decision } from '../actions/decision.js';
import { buildRouting, type Routing } from '../cpis/routing.js';
import type { FactValue } from '../entities/facts.js';
import type { DecodeLimits } from '../events/decode.js';
import type { RuleSet } from '../rules/compiled.js';
import { decideCandidates, type FactsPort, type FilteredCandidate, type LedgerPort } from './decide-candidates.js';
import { settleFactChecks } from './fact-checks.js';
import { mergeOutcomes, PartitionTask, type EvaluationRecord, type TaskOutcome, type TaskRules } from './partition-task.js';
import { SourceRouter } from './route.js';
import { taskRulesOf } from './task-rules.js';
import type { CpiIssueRecord, DeadLetter, RawMessage } from './types.js';

export interface EngineStep {
  consumed: number;
  deadLetters: DeadLetter[];
  cpiIssues: CpiIssueRecord[];
  task: TaskOutcome;
  decisions: Decision[];
  filteredOut: FilteredCandidate[];
}

export class LocalEngine {
  private routing: Routing;
  private rules: TaskRules;
  private readonly router = new SourceRouter(0, 1);
  readonly task = new PartitionTask(0, 1);
  private offset = 0;
  private readonly facts: FactsPort = {
    factsAt: async (queries) => queries.map((q) => this.task.entities.get(q.tag)?.facts.at(q.time) ?? null),
  };

  constructor(private ruleSet: RuleSet, private readonly ledger: LedgerPort, private readonly limits: DecodeLimits = { maxBytes: 1_048_576 }) {
    this.routing = buildRouting(ruleSet);
    this.rules = taskRulesOf(ruleSet, this.routing);
  }

  get ruleSetInUse(): RuleSet {
    return this.ruleSet;
  }

  setRules(ruleSet: RuleSet): void {
    this.ruleSet = ruleSet;
    this.routing = buildRouting(ruleSet);
    this.rules = taskRulesOf(ruleSet, this.routing);
  }

  async process(messages: readonly RawMessage[]): Promise<EngineStep> {
    const routed = this.router.route(messages, this.routing, { limits: this.limits, now: Number.POSITIVE_INFINITY, maxFutureMs: 0 });
    const record = routed.records.get(0);
    const task = await this.settled(record ? this.task.process(this.rules, [{ offset: this.offset++, record }]) : this.task.flush(this.rules, Number.NEGATIVE_INFINITY));
    return { consumed: routed.consumed, deadLetters: routed.deadLetters, cpiIssues: routed.cpiIssues, task, ...(await this.decide()) };
  }

  /** End of input: every remaining timer fires and every waiting candidate is decided. */
  async finish(): Promise<EngineStep> {
    const task = await this.settled(this.task.flush(this.rules, Number.POSITIVE_INFINITY));
    return { consumed: 0, deadLetters: [], cpiIssues: [], task, ...(await this.decide()) };
  }

  /** The observations whose customers' facts are final now (one partition: its own stream time), and the closes they held. */
  private async settled(outcome: TaskOutcome): Promise<TaskOutcome> {
    const now = this.task.now;
    const more = now === null ? null : await settleFactChecks(this.task, this.rules, now, this.facts);
    return more ? mergeOutcomes(outcome, more) : outcome;
  }

  /** Facts of an entity now (explain). */
  factsOf(tag: string): Record<string, FactValue> | null {
    return this.task.entities.get(tag)?.facts.latest() ?? null;
  }

  evaluationsOf(step: EngineStep): EvaluationRecord[] {
    return step.task.evaluations;
  }

  private async decide(): Promise<{ decisions: Decision[]; filteredOut: FilteredCandidate[] }> {
    const { decisions, filteredOut } = await decideCandidates(this.task.takeDecidable(), this.ruleSet.policy, this.facts, this.ledger, this.ruleSet.templates);
    return { decisions: decisions.filter((d) => !d.replay).map(({ published: _p, ...d }) => d), filteredOut };
  }
}
