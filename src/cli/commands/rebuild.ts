/** `cpiwatch rebuild --from <time>`: rebuilds the state Redis lost from the input topic's retention (rebuild/rebuild.ts). */
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { loadSettings } from '../../config/settings.js';
import { CpiwatchError } from '../../errors/cpiwatch-error.js';
import { createLogger } from '../../ops/logger.js';
import { parseFrom, ProcessorsRunning, rebuild, RebuildInterrupted } from '../../rebuild/rebuild.js';
import { formatReport } from '../../rebuild/summary.js';
import { formatRuleError } from '../../rules/rule-errors.js';
import { loadRuleSet } from '../../rules/load.js';
import { connectRedis } from '../../store/redis/connect.js';
import { defineCommand, usageError } from '../flags.js';

/** Exit status when the consumer groups still have members (the processors run). */
export const EXIT_REFUSED = 3;

export const rebuildCommand = defineCommand({
  name: 'rebuild',
  usage: ['cpiwatch rebuild --from <earliest|time> [--rules <dir>] [--dry-run] [--format text|json]'],
  description: `Rebuilds the processing state after Redis lost it (CPW402 STATE_LOST; docs/operations.md,
"State lost"), from the input topic's retention, without sending again what was already published.
Run it while no processor of the deployment runs: it refuses (exit status 3) while the consumer
groups <KAFKA_GROUP_ID>, <KAFKA_GROUP_ID>.owners or EMAIL_GROUP_ID have members.

It removes what is left of the state under REDIS_PREFIX (owner partitions, decision frontier,
offer ledger, publish journals; the e-mail delivery states stay), re-seeds the offer ledger from
DECISIONS_TOPIC and OFFERS_TOPIC (read committed) so that every decision already published counts
as published (and in cooldowns, frequency caps and budgets), sets the offsets of <KAFKA_GROUP_ID>
on EVENTS_TOPIC to --from and those of <KAFKA_GROUP_ID>.owners on the ops topic to its end, and
writes the state marker. \`cpiwatch run\` then rebuilds windows, rule states and facts by processing
the input again from --from; offers it decides again are recognised by their id and not sent.

--from earliest replays all the input still on the topic (the same state as without the loss when
the topic still holds it all); an RFC 3339 time replays from the first record at or after it (by
Kafka timestamp) in each partition, and what came before (customer profiles too) is not rebuilt.
An interrupted rebuild leaves the state unusable (the processor stops with CPW402): run it again.`,
  options: {
    from: { type: 'string', required: true, value: 'earliest|time', description: '"earliest", or an RFC 3339 time (e.g. 2026-11-23T18:00:00Z): where the input is replayed from' },
    rules: { type: 'string', value: 'dir', description: 'the rule files the processor runs (retention and budget periods of the re-seeded decisions; default: RULES_DIR, else rules)' },
    'dry-run': { type: 'boolean', description: 'check and print what would be done; change nothing' },
    format: { type: 'string', choices: ['text', 'json'], default: 'text', description: 'the summary on stdout: text for people, json for tools' },
  },
  footer: 'Exit status: 0 rebuilt (or dry run), 1 failed (run it again), 2 usage, 3 refused: a processor still runs (stop it first).',
}, async (values, _args, io) => {
  const from = parseFrom(values.from);
  if (typeof from === 'string') throw usageError(from);
  const settings = loadSettings(values.rules !== undefined ? { ...process.env, RULES_DIR: values.rules } : process.env);
  const loaded = await loadRuleSet([settings.RULES_DIR]);
  if (!loaded.ok) {
    for (const e of loaded.errors) io.stderr(formatRuleError(e));
    io.stderr(`${loaded.errors.length} error(s) in ${settings.RULES_DIR}; nothing rebuilt`);
    return 1;
  }
  const log = createLogger(settings.LOG_LEVEL === 'info' ? 'warn' : settings.LOG_LEVEL);
  const kafka = createKafka(settings, log);
  const redis = connectRedis(settings);
  try {
    const report = await rebuild({
      settings, ruleSet: loaded.ruleSet, kafka, redis, from, fromText: values.from, dryRun: values['dry-run'],
      progress: (line) => io.stderr(`cpiwatch rebuild: ${line}`),
    });
    io.stdout(values.format === 'json' ? JSON.stringify(report, null, 2) : formatReport(report));
    return 0;
  } catch (err) {
    const refused = err instanceof ProcessorsRunning ? err : err instanceof RebuildInterrupted && err.cause instanceof ProcessorsRunning ? err.cause : null;
    if (refused) {
      io.stderr(`cpiwatch rebuild: ${err instanceof RebuildInterrupted ? err.message : refused.message}`);
      return EXIT_REFUSED;
    }
    io.stderr(`cpiwatch rebuild: ${err instanceof CpiwatchError ? '' : 'failed: '}${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
});
