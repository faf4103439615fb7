/**
 * `cpiwatch backtest --rules <dir> (--events <file.ndjson> | --topic <t> [--from x] [--to y])`:
 * replays history through the engine with an in-memory state store. stdout: the offers it would have
 * sent, as NDJSON CloudEvents (the offers topic's format); stderr: a summary per rule.
 */
import { writeFile } from 'node:fs/promises';
import { decisionEventOf, offerEventOf } from '../../actions/offer-event.js';
import { createKafka } from '../../adapters/kafka/kafka-client.js';
import { SeriesCollector, renderHtmlReport } from '../../backtest/html-report.js';
import { kafkaRangeSource, parseBound, resolveRanges, type RangeBound } from '../../backtest/kafka-source.js';
import { ndjsonSource, type EventBatches } from '../../backtest/ndjson-source.js';
import { progressBar } from '../../backtest/progress.js';
import { runBacktest } from '../../backtest/run-backtest.js';
import { formatSummary } from '../../backtest/summary.js';
import { loadSettings } from '../../config/settings.js';
import { createLogger } from '../../ops/logger.js';
import { loadRuleSet } from '../../rules/load.js';
import { formatRuleError } from '../../rules/rule-errors.js';
import { type CliIo, parseArgs } from '../io.js';

export const BACKTEST_USAGE = `Usage: cpiwatch backtest --rules <dir|file> --events <file.ndjson> [options]
       cpiwatch backtest --rules <dir|file> --topic <topic> [--from <offset|time>] [--to <offset|time>] [options]

Replays recorded events through the same engine as \`cpiwatch run\`, with an in-memory state store,
and shows what the rules would have done. Nothing is published and no Redis is used.

Input:
  --events <file>     NDJSON: one structured CloudEvent (JSON) per line ("-": standard input);
                      invalid lines are counted as dead letters, not fatal
  --topic <topic>     a Kafka topic (brokers from KAFKA_BROKERS and the other KAFKA_* settings)
  --from, --to        range of the topic: an offset (digits, every partition) or an RFC 3339 time
                      (Kafka timestamps); from inclusive (default: start), to exclusive (default: end)

Output:
  stdout              the offers, one CloudEvent per line (the offers topic's format)
  --decisions         also the suppressed decisions (decision events, with the reason)
  stderr              a summary per rule: episodes fired, offers, suppressed by reason, distinct
                      customers reached, peak CPI value; a progress bar when stderr is a terminal
  --html <file>       a self-contained HTML report: each rule's CPI over time against its threshold

Options:
  --batch-size <n>    events per engine batch (default 1000; results do not depend on it)
  -h, --help          show this help

Exit status: 0 done, 1 invalid rules or unreadable input, 2 usage error.
`;

export async function backtestCommand(argv: string[], io: CliIo): Promise<number> {
  const { flags, positional } = parseArgs(argv, ['help', 'decisions']);
  if (flags.help || argv.includes('-h')) { io.stdout(BACKTEST_USAGE); return 0; }
  const usage = (msg: string) => { io.stderr(`cpiwatch backtest: ${msg}\n\n${BACKTEST_USAGE}`); return 2; };
  const known = ['rules', 'events', 'topic', 'from', 'to', 'decisions', 'html', 'batch-size'];
  const unknown = Object.keys(flags).find((f) => !known.includes(f));
  if (unknown) return usage(`unknown option --${unknown}`);
  if (positional.length > 0) return usage(`unexpected argument ${positional[0]}`);
  for (const f of ['rules', 'events', 'topic', 'from', 'to', 'html', 'batch-size']) {
    if (flags[f] === true) return usage(`--${f} needs a value`);
  }
  const str = (f: string) => (typeof flags[f] === 'string' ? (flags[f] as string) : undefined);
  const rulesPath = str('rules');
  if (!rulesPath) return usage('--rules is required');
  const events = str('events');
  const topic = str('topic');
  if (!events === !topic) return usage('give exactly one of --events and --topic');
  if (events && (flags.from !== undefined || flags.to !== undefined)) return usage('--from and --to apply to --topic only');
  const batchSize = Number(str('batch-size') ?? 1000);
  if (!Number.isInteger(batchSize) || batchSize < 1) return usage(`--batch-size needs a whole number of at least 1, found ${str('batch-size')}`);
  const bounds: (RangeBound | undefined)[] = [];
  for (const f of ['from', 'to']) {
    const text = str(f);
    if (text === undefined) { bounds.push(undefined); continue; }
    const b = parseBound(text);
    if (typeof b === 'string') return usage(`--${f}: ${b}`);
    bounds.push(b);
  }

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

  const withDecisions = flags.decisions === true;
  const series = str('html') ? new SeriesCollector() : undefined;
  const progress = progressBar(`backtest ${label}`, input.total);
  let summary;
  try {
    ({ summary } = await runBacktest({
      ruleSet,
      input,
      onProgress: (done) => progress.update(done),
      onBatch: (result) => series?.add(result.evaluations),
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
  const html = str('html');
  if (html && series) {
    await writeFile(html, renderHtmlReport(ruleSet, summary, series, `cpiwatch backtest of ${label}`));
    io.stderr(`HTML report: ${html}`);
  }
  return 0;
}
