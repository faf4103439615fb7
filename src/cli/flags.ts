/**
 * A command's options, declared once: parsed by `node:util` parseArgs (strict), their values checked
 * (positive integers, choices, required options, how many arguments) and listed in its --help.
 *
 * Every usage error is one CpiwatchError USAGE (CPW102), printed by `defineCommand` as
 *
 *   cpiwatch backtest: CPW102 usage: unknown option --bogus
 *
 *   Usage: cpiwatch backtest --rules <dir|file> --events <file.ndjson> [options]
 *   Run `cpiwatch backtest --help` for every option.
 *
 * with exit status 2.
 */
import { parseArgs } from 'node:util';
import { CpiwatchError } from '../errors/cpiwatch-error.js';
import { didYouMean } from '../rules/did-you-mean.js';
import type { CliIo } from './io.js';

export interface OptionSpec {
  /** `positive-integer`: takes a value that must be a whole number of at least 1 */
  readonly type: 'string' | 'boolean' | 'positive-integer';
  /** one-letter alias: `-x` */
  readonly short?: string;
  /** may be given more than once; the value is then the list of values */
  readonly multiple?: boolean;
  readonly default?: string | number;
  /** the only values allowed */
  readonly choices?: readonly string[];
  readonly required?: boolean;
  /** the value's name in the help text: `--rules <dir>` (default: the choices, `n` or `value`) */
  readonly value?: string;
  /** one line in the command's --help */
  readonly description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type One<O extends OptionSpec> = O['type'] extends 'positive-integer' ? number
  : O extends { choices: readonly (infer C extends string)[] } ? C : string;

/** The value of an option: boolean, a list (multiple), or one value, undefined when not given and without default. */
export type OptionValue<O extends OptionSpec> = O['type'] extends 'boolean' ? boolean
  : O extends { multiple: true } ? One<O>[]
  : O extends { default: string | number } | { required: true } ? One<O> : One<O> | undefined;

export type OptionValues<S extends OptionSpecs> = { -readonly [K in keyof S]: OptionValue<S[K]> };

/** The arguments that are not options; without this, a command takes none. */
export interface ArgsSpec {
  /** their name in messages: `<file|dir>...` */
  readonly name: string;
  readonly min?: number;
  readonly max?: number;
  /** the message when fewer than `min` are given (default: `missing <name>`) */
  readonly missing?: string;
}

export interface CommandSpec<S extends OptionSpecs> {
  /** `backtest`: in `cpiwatch backtest` */
  readonly name: string;
  /** the synopsis lines, each `cpiwatch <name> ...` */
  readonly usage: readonly string[];
  /** what the command does: the paragraphs between the synopsis and the options */
  readonly description: string;
  /** `help` (`-h`, `--help`) is added to every command */
  readonly options: S;
  readonly args?: ArgsSpec;
  /** after the options, e.g. the exit status */
  readonly footer?: string;
}

export type ParsedCommandLine<S extends OptionSpecs> =
  | { help: true }
  | { help: false; values: OptionValues<S>; args: string[] };

export type CliCommand = (argv: string[], io: CliIo) => Promise<number>;

const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** The one usage error: exit status 2 (index.ts and defineCommand). */
export function usageError(detail: string): CpiwatchError {
  return new CpiwatchError('USAGE', [detail]);
}

export function isUsageError(err: unknown): err is CpiwatchError {
  return err instanceof CpiwatchError && err.errorName === 'USAGE';
}

const withHelp = (options: OptionSpecs): OptionSpecs => ({ ...options, help: HELP });

/** `a`, `a or b`, `a, b or c` */
const oneOf = (words: readonly string[]) => (words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`);

/**
 * Parses argv by the command's declarations. `--help` (or `-h`) anywhere among the options wins over
 * any other problem; every problem throws usageError naming the option.
 */
export function parseCommandLine<S extends OptionSpecs>(spec: CommandSpec<S>, argv: readonly string[]): ParsedCommandLine<S> {
  const options = withHelp(spec.options);
  const config = {
    args: [...argv],
    options: Object.fromEntries(Object.entries(options).map(([name, o]) => [name, {
      type: o.type === 'boolean' ? 'boolean' as const : 'string' as const,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    }])),
    allowPositionals: spec.args !== undefined,
  };
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ ...config, strict: true });
  } catch (err) {
    const lenient = parseArgs({ ...config, strict: false, allowPositionals: true, tokens: true });
    if (lenient.tokens.some((t) => t.kind === 'option' && t.name === 'help' && t.value === undefined)) return { help: true };
    throw problemIn(lenient.tokens, options, config.allowPositionals) ?? usageError((err as Error).message);
  }
  if (parsed.values.help === true) return { help: true };
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options)) values[name] = valueOf(name, o, parsed.values[name]);
  const args = parsed.positionals;
  if (spec.args) {
    if (args.length < (spec.args.min ?? 0)) throw usageError(spec.args.missing ?? `missing ${spec.args.name}`);
    if (spec.args.max !== undefined && args.length > spec.args.max) throw usageError(`unexpected argument "${args[spec.args.max]}"`);
  }
  return { help: false, values: values as OptionValues<S>, args };
}

type Token = ReturnType<typeof parseArgs<{ tokens: true; strict: false }>>['tokens'][number];

/** The first token strict parsing refused, as a message naming it (tokens of a lenient parse). */
function problemIn(tokens: readonly Token[], options: OptionSpecs, allowPositionals: boolean): CpiwatchError | undefined {
  for (const t of tokens) {
    if (t.kind === 'positional' && !allowPositionals) return usageError(`unexpected argument "${t.value}"`);
    if (t.kind !== 'option') continue;
    const o = options[t.name];
    if (!o) {
      const near = t.rawName.startsWith('--') ? didYouMean(t.name, Object.keys(options)) : undefined;
      return usageError(`unknown option ${t.rawName}${near ? ` (did you mean --${near}?)` : ''}`);
    }
    if (o.type === 'boolean' && t.value !== undefined) return usageError(`${t.rawName} takes no value, got "${t.value}"`);
    if (o.type !== 'boolean' && t.value === undefined) return usageError(`${t.rawName} needs a value`);
    if (o.type !== 'boolean' && !t.inlineValue && t.value!.length > 1 && t.value!.startsWith('-')) {
      return usageError(`${t.rawName} needs a value, got the option "${t.value}" (for a value that starts with "-", write ${t.rawName}=${t.value})`);
    }
  }
  return undefined;
}

function valueOf(name: string, o: OptionSpec, raw: unknown): unknown {
  if (o.type === 'boolean') return raw === true;
  const given = raw === undefined ? [] : Array.isArray(raw) ? (raw as string[]) : [raw as string];
  if (given.length === 0) {
    if (o.required) throw usageError(`--${name} is required`);
    return o.multiple ? (o.default === undefined ? [] : [o.default]) : o.default;
  }
  const values = given.map((text) => {
    if (o.choices && !o.choices.includes(text)) throw usageError(`--${name} must be ${oneOf(o.choices)}, got "${text}"`);
    if (o.type !== 'positive-integer') return text;
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw usageError(`--${name} must be a positive integer, got "${text}"`);
    return n;
  });
  return o.multiple ? values : values.at(-1);
}

/** `-h, --help`, `--rules <dir>`, `--format <text|json>` */
function optionLabel(name: string, o: OptionSpec): string {
  const value = o.value ?? (o.choices ? o.choices.join('|') : o.type === 'positive-integer' ? 'n' : 'value');
  return `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'boolean' ? '' : ` <${value}>`}`;
}

function optionNotes(o: OptionSpec): string {
  const notes = [
    ...(o.required ? ['required'] : []),
    ...(o.default !== undefined ? [`default: ${o.default}`] : []),
    ...(o.multiple ? ['may be repeated'] : []),
  ];
  return notes.length > 0 ? ` (${notes.join('; ')})` : '';
}

/** Words of `text` in lines of at most `width` characters (a longer word stands alone). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

const HELP_WIDTH = 100;

/** The option lines of --help, from the declarations (help last). */
export function optionsHelp(options: OptionSpecs): string {
  const rows = Object.entries(withHelp(options)).map(([name, o]) => [optionLabel(name, o), `${o.description}${optionNotes(o)}`] as const);
  const left = Math.max(...rows.map(([label]) => label.length)) + 4;
  return rows.map(([label, text]) => wrap(text, HELP_WIDTH - left)
    .map((line, i) => `${(i === 0 ? `  ${label}` : '').padEnd(left)}${line}`)
    .join('\n')).join('\n');
}

const synopsis = (spec: CommandSpec<OptionSpecs>) => spec.usage.map((line, i) => `${i === 0 ? 'Usage: ' : '       '}${line}`).join('\n');

/** The whole --help text: synopsis, description, options, footer. */
export function helpText(spec: CommandSpec<OptionSpecs>): string {
  return [synopsis(spec), spec.description, `Options:\n${optionsHelp(spec.options)}`, ...(spec.footer ? [spec.footer] : [])].join('\n\n') + '\n';
}

/** What a usage error prints: the message, the synopsis and where the options are. */
export function usageMessage(spec: CommandSpec<OptionSpecs>, err: CpiwatchError): string {
  return `cpiwatch ${spec.name}: ${err.message}\n\n${synopsis(spec)}\nRun \`cpiwatch ${spec.name} --help\` for every option.\n`;
}

/**
 * A command from its declarations and its body: --help prints helpText (exit 0); a usage error, from
 * the parsing or thrown by the body (usageError), prints usageMessage on stderr (exit 2).
 */
export function defineCommand<const S extends OptionSpecs>(
  spec: CommandSpec<S>,
  run: (values: OptionValues<S>, args: string[], io: CliIo) => Promise<number>,
): CliCommand {
  return async (argv, io) => {
    try {
      const parsed = parseCommandLine(spec, argv);
      if (parsed.help) { io.stdout(helpText(spec)); return 0; }
      return await run(parsed.values, parsed.args, io);
    } catch (err) {
      if (!isUsageError(err)) throw err;
      io.stderr(usageMessage(spec, err));
      return 2;
    }
  };
}
