/**
 * `cpiwatch explain --customer <id> [--rule <id>]`: why a customer did or did not get an offer.
 * With --events, from a backtest of those events (the full story: offered, suppressed by which
 * guardrail, left out by the filter, or never a candidate with the CPI value and threshold then);
 * without, from the running system (the decisions topic and the Redis ledger).
 */
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { kafkaRangeSource, resolveRanges } from '../../backtest/kafka-source.js';
import { ndjsonSource, type EventBatches } from '../../backtest/ndjson-source.js';
import { runBacktest } from '../../backtest/run-backtest.js';
import { loadSettings } from '../../config/settings.js';
import { customerTag } from '../../cpis/tags.js';
import { ExplainCollector, explainRule, formatExplanations, personalFacts } from '../../explain/explain.js';
import { explainLive } from '../../explain/live.js';
import { createLogger } from '../../ops/logger.js';
import { loadRuleSet } from '../../rules/load.js';
import { formatRuleError } from '../../rules/rule-errors.js';
import { connectRedis } from '../../store/redis/connect.js';
import { RedisStore } from '../../store/redis/redis-store.js';
import { factsInAnyPartition } from '../../store/redis/facts-lookup.js';
import { boundOption, EVENT_INPUT_OPTIONS } from '../event-input.js';
import { defineCommand, usageError } from '../flags.js';

export const explainCommand = defineCommand({
  name: 'explain',
  usage: [
    'cpiwatch explain --customer <id> [--rule <id>] --rules <dir> --events <file.ndjson>',
    'cpiwatch explain --customer <id> [--rule <id>] --rules <dir> --topic <events topic> [--from x] [--to y]',
    'cpiwatch explain --customer <id> [--rule <id>] [--rules <dir>] [--since <offset|time>]',
  ],
  description: `Why a customer did or did not get an offer, rule by rule.

Backtest mode (--events or --topic): replays the events through the engine and tells, for each rule,
whether the customer was offered (the CPI value against the threshold), suppressed (and that
guardrail's verdict: holdout, cooldown, budget, quiet hours...), left out by the rule's filter (each
condition against the customer's facts), or never a candidate (the CPI value and threshold where
and when the customer was, and the episodes the rule fired).

Running-system mode (neither): reads the customer's decisions from DECISIONS_TOPIC (from --since,
default the start) and their state in the Redis offer ledger (REDIS_URL, REDIS_PREFIX), and shows
the current facts against each rule's filter (rules from --rules, default RULES_DIR).`,
  options: {
    customer: { type: 'string', value: 'id', required: true, description: 'the customer' },
    rule: { type: 'string', value: 'id', description: 'only this rule (default: every rule)' },
    rules: { type: 'string', value: 'dir', description: 'the rule files (required with --events or --topic; else default: RULES_DIR, else rules)' },
    ...EVENT_INPUT_OPTIONS,
    since: { type: 'string', value: 'offset|time', description: 'running-system mode: read the decisions topic from here (default: the start)' },
  },
  footer: 'Exit status: 0 done, 1 invalid rules or unreadable input, 2 usage error.',
}, async (values, _args, io) => {
  const { customer: customerId, events, topic } = values;
  if (events !== undefined && topic !== undefined) throw usageError('give at most one of --events and --topic');
  const backtest = events !== undefined || topic !== undefined;
  if (backtest && values.since) throw usageError('--since applies to the running-system mode only');
  if (topic === undefined && (values.from || values.to)) throw usageError('--from and --to apply to --topic only');
  const bounds = { from: boundOption('from', values.from), to: boundOption('to', values.to), since: boundOption('since', values.since) };

  const rulesPath = values.rules ?? (backtest ? undefined : process.env.RULES_DIR ?? 'rules');
  if (!rulesPath) throw usageError('--rules is required with --events or --topic');
  const loaded = await loadRuleSet([rulesPath]);
  if (!loaded.ok) {
    for (const e of loaded.errors) io.stderr(formatRuleError(e));
    return 1;
  }
  const ruleSet = loaded.ruleSet;
  const ruleId = values.rule;
  if (ruleId !== undefined && !ruleSet.rules.some((r) => r.id === ruleId) && backtest) {
    io.stderr(`cpiwatch explain: no rule "${ruleId}" in ${rulesPath}; rules: ${ruleSet.rules.map((r) => r.id).join(', ')}`);
    return 1;
  }

  if (!backtest) {
    const settings = loadSettings(process.env);
    const kafka = createKafka(settings, createLogger('warn'));
    const redis = connectRedis(settings);
    const store = new RedisStore(redis, settings.REDIS_PREFIX);
    try {
      const facts = factsInAnyPartition(redis, store.keys);
      io.stdout(await explainLive({
        kafka, store, facts, decisionsTopic: settings.DECISIONS_TOPIC, customerId, ruleSet,
        ...(ruleId !== undefined ? { ruleId } : {}), ...(bounds.since ? { since: bounds.since } : {}),
      }));
      return 0;
    } catch (err) {
      io.stderr(`cpiwatch explain: ${(err as Error).message}`);
      return 1;
    } finally {
      await store.close().catch(() => undefined);
    }
  }

  let input: EventBatches;
  try {
    if (events) input = await ndjsonSource(events, 1000);
    else {
      const kafka = createKafka(loadSettings(process.env), createLogger('warn'));
      input = await kafkaRangeSource(kafka, topic!, await resolveRanges(kafka, topic!, bounds.from, bounds.to));
    }
  } catch (err) {
    io.stderr(`cpiwatch explain: cannot read ${events ?? topic}: ${(err as Error).message}`);
    return 1;
  }
  const collector = new ExplainCollector(ruleSet, customerId);
  const { factsOf } = await runBacktest({ ruleSet, input, onBatch: (result, batch) => collector.addBatch(result, batch) });
  const tags = [customerTag(customerId), ...new Set([...collector.decisions.map((d) => d.scopeTag), ...collector.presence.map((p) => p.tag)])];
  const factsByTag = new Map(tags.map((t) => [t, factsOf(t)]));
  const ctx = { ruleSet, customerId, scopeFacts: (tag: string) => factsByTag.get(tag) ?? null };
  const rules = ruleSet.rules.filter((r) => ruleId === undefined || r.id === ruleId);
  io.stdout(formatExplanations(customerId, factsByTag.get(customerTag(customerId)) ?? null, rules.map((r) => explainRule(r, collector, ctx)), personalFacts(ruleSet)));
  return 0;
});
