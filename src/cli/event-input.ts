/** The event input of `backtest` and `explain`: an NDJSON file or a range of a Kafka topic. */
import { parseBound, type RangeBound } from '../backtest/kafka-source.js';
import { usageError, type OptionSpecs } from './flags.js';

export const EVENT_INPUT_OPTIONS = {
  events: { type: 'string', value: 'file.ndjson', description: 'NDJSON: one structured CloudEvent (JSON) per line ("-": standard input); invalid lines are counted as dead letters, not fatal' },
  topic: { type: 'string', value: 'topic', description: 'a Kafka topic (brokers from KAFKA_BROKERS and the other KAFKA_* settings)' },
  from: { type: 'string', value: 'offset|time', description: 'with --topic: start of the range, inclusive: an offset (digits, every partition) or an RFC 3339 time (Kafka timestamps); default: the start' },
  to: { type: 'string', value: 'offset|time', description: 'with --topic: end of the range, exclusive, like --from; default: the current end' },
} as const satisfies OptionSpecs;

/** The bound `text` names (--from, --to, --since), undefined when the option was not given; a usage error when it is neither. */
export function boundOption(name: string, text: string | undefined): RangeBound | undefined {
  if (text === undefined) return undefined;
  const bound = parseBound(text);
  if (typeof bound === 'string') throw usageError(`--${name}: ${bound}`);
  return bound;
}
