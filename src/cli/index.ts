/** The `cpiwatch` command line: one sub-command per job. */
import { readFileSync } from 'node:fs';
import { CpiwatchError } from '../errors/cpiwatch-error.js';
import { type CliIo, processIo } from './io.js';

type Command = { summary: string; load: () => Promise<(argv: string[], io: CliIo) => Promise<number>> };

const COMMANDS: Record<string, Command> = {
  explain: { summary: 'why a customer did or did not get an offer (backtest or running system)', load: async () => (await import('./commands/explain.js')).explainCommand },
  run: { summary: 'run the stream processor (Kafka in, Redis state, offers out)', load: async () => (await import('./commands/run.js')).runCommand },
  demo: { summary: 'quick start: run the example rules on a replayed curbside scenario', load: async () => (await import('./commands/demo.js')).demoCommand },
  schemas: { summary: 'regenerate the JSON Schemas of events, rule files, offers and decisions', load: async () => (await import('./commands/schemas.js')).schemasCommand },
  backtest: { summary: 'replay recorded events (NDJSON or a Kafka topic range) through the rules; offers on stdout', load: async () => (await import('./commands/backtest.js')).backtestCommand },
  test: { summary: 'run rule unit tests (*.test.yaml) on virtual time', load: async () => (await import('./commands/test.js')).testCommand },
  config: { summary: 'print the effective configuration (environment, CPIWATCH_CONFIG file), secrets masked', load: async () => (await import('./commands/config.js')).configCommand },
  rebuild: { summary: 'rebuild the state after Redis lost it, from the input topic (no processor may run)', load: async () => (await import('./commands/rebuild.js')).rebuildCommand },
  dlq: { summary: 'list dead letters, or re-publish them after a fix (list|replay)', load: async () => (await import('./commands/dlq.js')).dlqCommand },
  lift: { summary: 'per rule, outcome rates of offered vs held-out customers, with confidence intervals', load: async () => (await import('./commands/lift.js')).liftCommand },
  preview: { summary: 'render an e-mail template with sample data, in a locale (subject, text, html)', load: async () => (await import('./commands/preview.js')).previewCommand },
  validate: { summary: 'check rule files; every error with file:line:col', load: async () => (await import('./commands/validate.js')).validateCommand },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'Usage: cpiwatch <command> [options]',
    '',
    'Real-time Customer Performance Indicators: sliding windows over customer events, YAML trigger',
    'rules written by marketers, offers out on Kafka and by e-mail.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `cpiwatch <command> --help` for a command\'s options. Settings: docs/operations.md.',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') { io.stdout(help()); return 0; }
  if (name === '--version' || name === '-v') { io.stdout(version()); return 0; }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`cpiwatch: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  try {
    return await (await command.load())(rest, io);
  } catch (err) {
    if (err instanceof CpiwatchError) { io.stderr(err.message); return err.errorName === 'USAGE' ? 2 : 1; }
    throw err;
  }
}
