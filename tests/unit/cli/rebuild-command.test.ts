// `cpiwatch rebuild`'s command line: the same refusals as every command (flags.ts), and its own
// check of --from; all of these stop before any Kafka or Redis is touched.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';

const refusal = (detail: string) =>
  new RegExp(`^cpiwatch rebuild: CPW102 usage: ${detail.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n\nUsage: cpiwatch rebuild [^]*\nRun \`cpiwatch rebuild --help\` for every option\\.\n$`);

describe('cpiwatch rebuild', () => {
  it.each([
    [['--bogus'], 'unknown option --bogus'],
    [[], '--from is required'],
    [['--from'], '--from needs a value'],
    [['--from', 'yesterday'], '--from must be "earliest" or an RFC 3339 time such as 2026-11-23T18:00:00Z, got "yesterday": '],
    [['--from', 'earliest', '--format', 'xml'], '--format must be text or json, got "xml"'],
    [['--from', 'earliest', '--dry-run=yes'], '--dry-run takes no value, got "yes"'],
    [['--from', 'earliest', 'stray'], 'unexpected argument "stray"'],
  ])('%j is refused with exit status 2', async (argv, detail) => {
    const r = await runCli(['rebuild', ...argv]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    if (detail.endsWith(': ')) expect(r.err).toMatch(new RegExp(`^cpiwatch rebuild: CPW102 usage: ${detail.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    else expect(r.err).toMatch(refusal(detail));
  });

  it('--help lists every option of the synopsis, the exit statuses, and is in the command list', async () => {
    const r = await runCli(['rebuild', '--help']);
    expect(r.code).toBe(0);
    const synopsis = r.out.split('\n\n')[0]!;
    expect(synopsis).toBe('Usage: cpiwatch rebuild --from <earliest|time> [--rules <dir>] [--dry-run] [--format text|json]');
    const options = r.out.slice(r.out.indexOf('\nOptions:\n'));
    for (const name of new Set(synopsis.match(/--[a-z-]+/g) ?? [])) expect(options).toMatch(new RegExp(`^ {2}(-\\w, )?${name}\\b`, 'm'));
    expect(r.out).toContain('Exit status: 0 rebuilt (or dry run), 1 failed (run it again), 2 usage, 3 refused: a processor still runs (stop it first).');
    expect((await runCli(['--help'])).out).toMatch(/^ {2}rebuild +rebuild the state after Redis lost it/m);
  });
});
