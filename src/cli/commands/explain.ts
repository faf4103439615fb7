/**
 * `cpiwatch explain --customer <id> [--rule <id>]`: why a customer did or did not get an offer.
 * With --events, from a backtest of those events (the full story: offered, suppressed by which
 * guardrail, left out by the filter, or never a candidate with the CPI value and threshold then);
 * without, from the running system (the decisions topic and the Redis ledger).
 */
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { kafkaRangeSource, parseBound, resolveRanges, type RangeBound } from '../../backtest/kafka-source.js';
import { ndjsonSource, type EventBatches } from '../../backtest/ndjson-source.js';
import { runBacktest } from '../../backtest/run-backtest.js';
import { loadSettings } from '../../config/settings.js';
import { customerTag } from '../../cpis/tags.js';
import { ExplainCollector, explainRule, formatExplanations } from '../../explain/explain.js';
import { explainLive } from '../../explain/live.js';
import { createLogger } from '../../ops/logger.js';
import { loadRuleSet } from '../../rules/load.js';
import { formatRuleError } from '../../rules/rule-errors.js';
import { connectRedis } from '../../store/redis/connect.js';
import { RedisStore } from '../../store/redis/redis-store.js';
import { factsInAnyPartition } from '../../store/redis/facts-lookup.js';
import { type CliIo, parseArgs } from '../io.js';

export const EXPLAIN_USAGE = `Usage: cpiwatch explain --customer <id> [--rule <id>] --rules <dir> --events <file.ndjson>
       cpiwatch explain --customer <id> [--rule <id>] --rules <dir> --topic <events topic> [--from x] [--to y]
       cpiwatch explain --customer <id> [--rule <id>] [--rules <dir>] [--since <offset|time>]

Why a customer did or did not get an offer, rule by rule.

Backtest mode (--events or --topic): replays the events through the engine and tells, for each rule,
whether the customer was offered (the CPI value against the threshold), suppressed (and that
guardrail's verdict: holdout, cooldown, budget, quiet hours...), left out by the rule's filter (each
condition against the customer's facts), or never a candidate (the CPI value and threshold where
and when the customer was, and the episodes the rule fired).

Running-system mode (neither): reads the customer's decisions from DECISIONS_TOPIC (from --since,
default the start) and their state in the Redis offer ledger (REDIS_URL, REDIS_PREFIX), and shows
the current facts against each rule's filter (rules from --rules, default RULES_DIR).

Exit status: 0 done, 1 invalid rules or unreadable input, 2 usage error.
`;

export async function explainCommand(argv: string[], io: CliIo): Promise<number> {
  const { flags, positional } = parseArgs(argv, ['help']);
  if (flags.help || argv.includes('-h')) { io.stdout(EXPLAIN_USAGE); return 0; }
  const usage = (msg: string) => { io.stderr(`cpiwatch explain: ${msg}\n\n${EXPLAIN_USAGE}`); return 2; };
  const known = ['customer', 'rule', 'rules', 'events', 'topic', 'from', 'to', 'since'];
  const unknown = Object.keys(flags).find((f) => !known.includes(f));
  if (unknown) return usage(`unknown option --${unknown}`);
  if (positional.length > 0) return usage(`unexpected argument ${positional[0]}`);
  for (const f of known) if (flags[f] === true) return usage(`--${f} needs a value`);
  const str = (f: string) => flags[f] as string | undefined;
  const customerId = str('customer');
  if (!customerId) return usage('--customer is required');
  if (str('events') && str('topic')) return usage('give at most one of --events and --topic');
  const backtest = str('events') !== undefined || str('topic') !== undefined;
  if (backtest && str('since')) return usage('--since applies to the running-system mode only');
  if (!str('topic') && (str('from') || str('to'))) return usage('--from and --to apply to --topic only');
  const bound = (f: string): RangeBound | undefined | string => (str(f) === undefined ? undefined : parseBound(str(f)!));
  const bounds = { from: bound('from'), to: bound('to'), since: bound('since') };
  for (const [f, b] of Object.entries(bounds)) if (typeof b === 'string') return usage(`--${f}: ${b}`);

  const rulesPath = str('rules') ?? (backtest ? undefined : process.env.RULES_DIR ?? 'rules');
  if (!rulesPath) return usage('--rules is required with --events or --topic');
  const loaded = await loadRuleSet([rulesPath]);
  if (!loaded.ok) {
    for (const e of loaded.errors) io.stderr(formatRuleError(e));
    return 1;
  }
  const ruleSet = loaded.ruleSet;
  const ruleId = str('rule');
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
        ...(ruleId !== undefined ? { ruleId } : {}), ...(bounds.since ? { since: bounds.since as RangeBound } : {}),
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
    if (str('events')) input = await ndjsonSource(str('events')!, 1000);
    else {
      const kafka = createKafka(loadSettings(process.env), createLogger('warn'));
      input = await kafkaRangeSource(kafka, str('topic')!, await resolveRanges(kafka, str('topic')!, bounds.from as RangeBound | undefined, bounds.to as RangeBound | undefined));
    }
  } catch (err) {
    io.stderr(`cpiwatch explain: cannot read ${str('events') ?? str('topic')}: ${(err as Error).message}`);
    return 1;
  }
  const collector = new ExplainCollector(ruleSet, customerId);
  const { factsOf } = await runBacktest({ ruleSet, input, onBatch: (result, batch) => collector.addBatch(result, batch) });
  const tags = [customerTag(customerId), ...new Set([...collector.decisions.map((d) => d.scopeTag), ...collector.presence.map((p) => p.tag)])];
  const factsByTag = new Map(tags.map((t) => [t, factsOf(t)]));
  const ctx = { ruleSet, customerId, scopeFacts: (tag: string) => factsByTag.get(tag) ?? null };
  const rules = ruleSet.rules.filter((r) => ruleId === undefined || r.id === ruleId);
  io.stdout(formatExplanations(customerId, factsByTag.get(customerTag(customerId)) ?? null, rules.map((r) => explainRule(r, collector, ctx))));
  return 0;
}

