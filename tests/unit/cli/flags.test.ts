import { describe, expect, it } from 'vitest';
import { defineCommand, helpText, parseCommandLine, type CommandSpec, type OptionSpecs } from '../../../src/cli/flags.js';
import { CpiwatchError } from '../../../src/errors/cpiwatch-error.js';

const SPEC = {
  name: 'sample',
  usage: ['cpiwatch sample [options] <file>...'],
  description: 'Does a sample thing.',
  options: {
    rules: { type: 'string', short: 'r', value: 'dir', description: 'where the rules are' },
    format: { type: 'string', choices: ['text', 'json'], default: 'text', description: 'how to print' },
    'batch-size': { type: 'positive-integer', default: 1000, description: 'events per batch' },
    limit: { type: 'positive-integer', description: 'at most this many' },
    tag: { type: 'string', multiple: true, description: 'a tag' },
    'dry-run': { type: 'boolean', description: 'change nothing' },
  },
  args: { name: '<file>...', min: 1, max: 3, missing: 'no file given' },
  footer: 'Exit status: 0 done, 2 usage error.',
} as const satisfies CommandSpec<OptionSpecs>;

const parse = (...argv: string[]) => parseCommandLine(SPEC, argv);

/** The detail of the usage error parsing argv throws. */
function refusal(spec: CommandSpec<OptionSpecs>, argv: string[]): string {
  try {
    parseCommandLine(spec, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CpiwatchError);
    expect((err as CpiwatchError).errorName).toBe('USAGE');
    return (err as CpiwatchError).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}
const refused = (...argv: string[]) => refusal(SPEC, argv);

describe('parseCommandLine', () => {
  it('applies the defaults and converts the values', () => {
    expect(parse('a.yaml')).toEqual({
      help: false,
      values: { rules: undefined, format: 'text', 'batch-size': 1000, limit: undefined, tag: [], 'dry-run': false },
      args: ['a.yaml'],
    });
    const r = parse('--rules', 'x', '--format', 'json', '--batch-size', '5', '--limit', '7', '--tag', 'a', '--tag', 'b', '--dry-run', 'a.yaml');
    expect(r).toEqual({
      help: false,
      values: { rules: 'x', format: 'json', 'batch-size': 5, limit: 7, tag: ['a', 'b'], 'dry-run': true },
      args: ['a.yaml'],
    });
  });

  it('takes --name=value, a short alias and its attached value', () => {
    expect(parse('--rules=x', '--batch-size=20', 'a')).toMatchObject({ values: { rules: 'x', 'batch-size': 20 } });
    expect(parse('-r', 'x', 'a')).toMatchObject({ values: { rules: 'x' } });
    expect(parse('-rx', 'a')).toMatchObject({ values: { rules: 'x' } });
    expect(parse('--rules=--odd', 'a')).toMatchObject({ values: { rules: '--odd' } });
    expect(parse('--rules', '-', 'a')).toMatchObject({ values: { rules: '-' } }); // "-" is a value (standard input)
  });

  it('keeps positional arguments in order, and takes anything after -- as one', () => {
    expect(parse('a', '--dry-run', 'b', '--', '--c')).toMatchObject({ values: { 'dry-run': true }, args: ['a', 'b', '--c'] });
    expect(parse('-')).toMatchObject({ args: ['-'] });
  });

  it('refuses an unknown option, naming it, with a suggestion when one is close', () => {
    expect(refused('--bogus', 'a')).toBe('CPW102 usage: unknown option --bogus');
    expect(refused('-x', 'a')).toBe('CPW102 usage: unknown option -x');
    expect(refused('--batchsize', '5', 'a')).toBe('CPW102 usage: unknown option --batchsize (did you mean --batch-size?)');
  });

  it('refuses an option without its value', () => {
    expect(refused('a', '--rules')).toBe('CPW102 usage: --rules needs a value');
    expect(refused('a', '-r')).toBe('CPW102 usage: -r needs a value');
    expect(refused('--rules', '--dry-run', 'a')).toBe('CPW102 usage: --rules needs a value, got the option "--dry-run" (for a value that starts with "-", write --rules=--dry-run)');
  });

  it('refuses a value given to a boolean option', () => {
    expect(refused('--dry-run=yes', 'a')).toBe('CPW102 usage: --dry-run takes no value, got "yes"');
  });

  it('refuses a bad number or a value not among the choices, precisely', () => {
    expect(refused('--batch-size', 'x', 'a')).toBe('CPW102 usage: --batch-size must be a positive integer, got "x"');
    for (const bad of ['0', '-1', '1.5', '1e3', ' 2', '99999999999999999999']) {
      expect(refused(`--batch-size=${bad}`, 'a')).toBe(`CPW102 usage: --batch-size must be a positive integer, got "${bad}"`);
    }
    expect(refused('--format', 'xml', 'a')).toBe('CPW102 usage: --format must be text or json, got "xml"');
  });

  it('checks how many positional arguments there are', () => {
    expect(refused()).toBe('CPW102 usage: no file given');
    expect(refused('a', 'b', 'c', 'd')).toBe('CPW102 usage: unexpected argument "d"');
    const none = { ...SPEC, args: undefined };
    expect(refusal(none, ['stray'])).toBe('CPW102 usage: unexpected argument "stray"');
  });

  it('refuses a missing required option', () => {
    const spec = { ...SPEC, options: { customer: { type: 'string', required: true, description: 'who' } } } as const;
    expect(refusal(spec, ['a'])).toBe('CPW102 usage: --customer is required');
    expect(parseCommandLine(spec, ['--customer', 'c1', 'a'])).toMatchObject({ values: { customer: 'c1' } });
  });

  it('lets --help and -h win over every other problem', () => {
    for (const argv of [['--help'], ['-h'], ['--bogus', '--help'], ['-h', '--batch-size', 'x'], ['x', 'y', 'z', 'w', '-h']]) {
      expect(parse(...argv)).toEqual({ help: true });
    }
    expect(refused('--rules', '--help')).toMatch(/--rules needs a value/); // "--help" is what --rules was given
  });
});

describe('helpText', () => {
  it('lists every declared option with its value, default and description, help last', () => {
    expect(helpText(SPEC)).toBe(`Usage: cpiwatch sample [options] <file>...

Does a sample thing.

Options:
  -r, --rules <dir>     where the rules are
  --format <text|json>  how to print (default: text)
  --batch-size <n>      events per batch (default: 1000)
  --limit <n>           at most this many
  --tag <value>         a tag (may be repeated)
  --dry-run             change nothing
  -h, --help            show this help

Exit status: 0 done, 2 usage error.
`);
  });

  it('wraps a long description under its option', () => {
    const long = 'word '.repeat(40).trim();
    const text = helpText({ ...SPEC, options: { x: { type: 'boolean', description: long } }, footer: undefined });
    const lines = text.split('\n').filter((l) => l.includes('word'));
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    expect(lines[1]).toMatch(/^ {14}word/);
  });
});

describe('defineCommand', () => {
  const io = () => {
    const o = { out: '', err: '' };
    return { o, io: { stdout: (s: string) => { o.out += s; }, stderr: (s: string) => { o.err += s; } } };
  };
  const command = defineCommand(SPEC, async (values, args, cli) => {
    if (values.limit === 13) throw new CpiwatchError('USAGE', ['13 is unlucky']);
    cli.stdout(`${values.format} ${values['batch-size']} ${args.join(',')}`);
    return 0;
  });

  it('runs the body with the typed values', async () => {
    const { o, io: cli } = io();
    expect(await command(['--format=json', 'a', 'b'], cli)).toBe(0);
    expect(o.out).toBe('json 1000 a,b');
  });

  it('prints the help on stdout, exit 0', async () => {
    const { o, io: cli } = io();
    expect(await command(['--help'], cli)).toBe(0);
    expect(o.out).toBe(helpText(SPEC));
    expect(o.err).toBe('');
  });

  it('prints a usage error, from the parsing or the body, naming the command and pointing at --help, exit 2', async () => {
    for (const [argv, detail] of [[['--bogus', 'a'], 'unknown option --bogus'], [['--limit', '13', 'a'], '13 is unlucky']] as const) {
      const { o, io: cli } = io();
      expect(await command([...argv], cli)).toBe(2);
      expect(o.out).toBe('');
      expect(o.err).toBe(`cpiwatch sample: CPW102 usage: ${detail}\n\nUsage: cpiwatch sample [options] <file>...\nRun \`cpiwatch sample --help\` for every option.\n`);
    }
  });

  it('lets other errors through', async () => {
    const failing = defineCommand(SPEC, async () => { throw new CpiwatchError('CONFIG_INVALID', ['HTTP_PORT']); });
    await expect(failing(['a'], io().io)).rejects.toThrow(/CPW100/);
  });
});
