// Every command parses its options through src/cli/flags.ts: the same refusal, exit status 2, the
// same --help. All of these stop at the options, before any Kafka, Redis or file is touched.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';

const COMMANDS = ['backtest', 'explain', 'dlq', 'test', 'validate', 'config', 'run', 'demo', 'schemas'];

/** What `cpiwatch <command>` prints for a usage error with this detail. */
const refusal = (command: string, detail: string) =>
  new RegExp(`^cpiwatch ${command}: CPW102 usage: ${detail.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n\nUsage: cpiwatch ${command} [^]*\nRun \`cpiwatch ${command} --help\` for every option\\.\n$`);

describe.each(COMMANDS)('cpiwatch %s', (command) => {
  it('refuses an unknown option with exit status 2, naming it and pointing at --help', async () => {
    const r = await runCli([command, '--bogus']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(refusal(command, 'unknown option --bogus'));
  });

  it('lists in --help every option its synopsis names', async () => {
    const r = await runCli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const [synopsis, options] = [r.out.split('\n\n')[0]!, r.out.slice(r.out.indexOf('\nOptions:\n'))];
    expect(synopsis).toMatch(new RegExp(`^Usage: cpiwatch ${command}`));
    for (const name of new Set(synopsis.match(/--[a-z-]+/g) ?? [])) expect(options).toMatch(new RegExp(`^ {2}(-\\w, )?${name}\\b`, 'm'));
    expect(options).toMatch(/^ {2}-h, --help +show this help$/m);
    expect((await runCli([command, '-h'])).out).toBe(r.out);
  });
});

describe('the commands\' own checks, in the same form', () => {
  it.each([
    [['backtest', '--rules', 'rules', '--events', 'x.ndjson', '--batch-size', 'x'], 'backtest', '--batch-size must be a positive integer, got "x"'],
    [['backtest', '--rules', 'rules', '--events'], 'backtest', '--events needs a value'],
    [['backtest', '--events', 'x.ndjson'], 'backtest', '--rules is required'],
    [['backtest', '--rules', 'rules', '--events', 'x.ndjson', '--topic', 't'], 'backtest', 'give exactly one of --events and --topic'],
    [['backtest', '--rules', 'rules', '--events', 'x.ndjson', '--decisions=yes'], 'backtest', '--decisions takes no value, got "yes"'],
    [['backtest', '--rules', 'rules', '--events', 'x.ndjson', 'stray'], 'backtest', 'unexpected argument "stray"'],
    [['explain', '--rules', 'rules'], 'explain', '--customer is required'],
    [['explain', '--customer', 'c1', '--events', 'x.ndjson', '--since', '0'], 'explain', '--since applies to the running-system mode only'],
    [['dlq'], 'dlq', 'give a sub-command: list or replay'],
    [['dlq', 'purge'], 'dlq', 'unknown sub-command "purge" (list or replay)'],
    [['dlq', 'list', '--limit', '0'], 'dlq', '--limit must be a positive integer, got "0"'],
    [['dlq', 'list', '--format', 'xml'], 'dlq', '--format must be text or json, got "xml"'],
    [['test'], 'test', 'no test file or directory given'],
    [['test', '--batch-size=1.5', 'rules/'], 'test', '--batch-size must be a positive integer, got "1.5"'],
    [['validate', '--format'], 'validate', '--format needs a value'],
    [['config', '--format', 'yaml'], 'config', '--format must be json or env, got "yaml"'],
    [['run', '--rules'], 'run', '--rules needs a value'],
    [['demo', '--timeout', 'soon'], 'demo', '--timeout must be a positive integer, got "soon"'],
    [['schemas', '--out', '--docs', 'x.md'], 'schemas', '--out needs a value, got the option "--docs" (for a value that starts with "-", write --out=--docs)'],
  ])('%j', async (argv, command, detail) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(refusal(command, detail));
  });

  it('names the option of a bad --from, --to or --since', async () => {
    for (const argv of [['backtest', '--rules', 'rules', '--topic', 't', '--to', 'yesterday'], ['explain', '--customer', 'c1', '--since', 'yesterday']]) {
      const r = await runCli(argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`^cpiwatch ${argv[0]}: CPW102 usage: --(to|since): expected an offset \\(digits\\) or an RFC 3339 time, found "yesterday"`));
    }
  });

  it('takes --name=value like --name value', async () => {
    const [a, b] = [await runCli(['config', '--format=env']), await runCli(['config', '--format', 'env'])];
    expect(a.code).toBe(0);
    expect(a.out).toContain('\nEVENTS_TOPIC=');
    expect(a.out).toBe(b.out);
  });
});
