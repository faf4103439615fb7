/**
 * `cpiwatch backtest --rules <dir> (--events <file.ndjson> | --topic <t> [--from x] [--to y])`:
 * replays history through the engine with an in-memory state store. stdout: the offers it would have
 * sent, as NDJSON CloudEvents (the offers topic's format); stderr: a summary per rule.
 */
import { writeFile } from 'node:fs/promises';
import { decisionEventOf, offerEventOf } from '../../actions/offer-event.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { SeriesCollector, renderHtmlReport } from '../../backtest/html-report.js';
import { kafkaRangeSource, resolveRanges } from '../../backtest/kafka-source.js';
import { ndjsonSource, type EventBatches } from '../../backtest/ndjson-source.js';
import { progressBar } from '../../backtest/progress.js';
import { runBacktest } from '../../backtest/run-backtest.js';
import { formatSummary } from '../../backtest/summary.js';
import { loadSettings } from '../../config/settings.js';
import type { FactValue } from '../../store/state-store.js';
import { createLogger } from '../../ops/logger.js';
import { loadRuleSet } from '../../rules/load.js';
import { formatRuleError } from '../../rules/rule-errors.js';
import { boundOption, EVENT_INPUT_OPTIONS } from '../event-input.js';
import { defineCommand, usageError } from '../flags.js';

export const backtestCommand = defineCommand({
  name: 'backtest',
  usage: [
    'cpiwatch backtest --rules <dir|file> --events <file.ndjson> [options]',
    'cpiwatch backtest --rules <dir|file> --topic <topic> [--from <offset|time>] [--to <offset|time>] [options]',
  ],
  description: `Replays recorded events through the same engine as \`cpiwatch run\`, with an in-memory state store,
and shows what the rules would have done. Nothing is published and no Redis is used.

Output: stdout has the offers, one CloudEvent per line (the offers topic's format); stderr a summary
per rule: episodes fired, offers, suppressed by reason, distinct customers reached, peak CPI value;
a progress bar when stderr is a terminal.`,
  options: {
    rules: { type: 'string', value: 'dir|file', required: true, description: 'the rule files' },
    ...EVENT_INPUT_OPTIONS,
    decisions: { type: 'boolean', description: 'also print the suppressed decisions (decision events, with the reason)' },
    html: { type: 'string', value: 'file', description: 'write a self-contained HTML report: per CPI and scope a chart with every rule on it, fires, clears, offers and suppressions marked, and who got what or was suppressed and why' },
    'batch-size': { type: 'positive-integer', default: 1000, description: 'events per engine batch; results do not depend on it' },
  },
  footer: 'Exit status: 0 done, 1 invalid rules or unreadable input, 2 usage error.',
}, async (values, _args, io) => {
  const { rules: rulesPath, events, topic, html, 'batch-size': batchSize } = values;
  if (!events === !topic) throw usageError('give exactly one of --events and --topic');
  if (events && (values.from !== undefined || values.to !== undefined)) throw usageError('--from and --to apply to --topic only');
  const bounds = [boundOption('from', values.from), boundOption('to', values.to)];

  const loaded = await loadRuleSet([rulesPath]);
  if (!loaded.ok) {
    for (const e of loaded.errors) io.stderr(formatRuleError(e));
    io.stderr(`cpiwatch backtest: ${loaded.errors.length} error(s) in ${rulesPath}; nothing replayed`);
    return 1;
  }
  const ruleSet = loaded.ruleSet;

  let input: EventBatches;
  let label: string;
  try {
    if (events) {
      input = await ndjsonSource(events, batchSize);
      label = events;
    } else {
      const settings = loadSettings(process.env);
      const kafka = createKafka(settings, createLogger('warn'));
      const ranges = await resolveRanges(kafka, topic!, bounds[0], bounds[1]);
      io.stderr(`reading ${topic}: ${ranges.map((r) => `partition ${r.partition} ${r.end > r.start ? `offsets ${r.start}..${r.end - 1}` : 'nothing in range'}`).join(', ')}`);
      input = await kafkaRangeSource(kafka, topic!, ranges);
      label = topic!;
    }
  } catch (err) {
    io.stderr(`cpiwatch backtest: cannot read ${events ?? topic}: ${(err as Error).message}`);
    return 1;
  }

  const withDecisions = values.decisions;
  const series = html ? new SeriesCollector() : undefined;
  const progress = progressBar(`backtest ${label}`, input.total);
  let summary;
  let factsOf: ((tag: string) => Record<string, FactValue> | null) | undefined;
  try {
    ({ summary, factsOf } = await runBacktest({
      ruleSet,
      input,
      onProgress: (done) => progress.update(done),
      onBatch: (result) => series?.addBatch(result),
      onDecisions: (decisions) => {
        const lines: string[] = [];
        for (const d of decisions) {
          if (d.outcome === 'offered') lines.push(JSON.stringify(offerEventOf(d)));
          else if (withDecisions) lines.push(JSON.stringify(decisionEventOf(d)));
        }
        if (lines.length > 0) io.stdout(`${lines.join('\n')}\n`);
      },
    }));
  } catch (err) {
    progress.done();
    io.stderr(`cpiwatch backtest: ${(err as Error).message}`);
    return 1;
  }
  progress.done();
  io.stderr(formatSummary(summary));
  if (html && series) {
    const source = events ? `--events ${events}` : `--topic ${topic}`;
    await writeFile(html, renderHtmlReport(ruleSet, summary, series, { title: `cpiwatch backtest of ${label}`, factsOf, explainCommand: `cpiwatch explain --rules ${rulesPath} ${source}` }));
    io.stderr(`HTML report: ${html}`);
  }
  return 0;
});
