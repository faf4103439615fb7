// docs/rules.md, "Templates", is tested: the template it shows is the shipped rules/templates file,
// its variable table is the declaration (template-variables.ts), and its `cpiwatch validate` and
// `cpiwatch preview` sessions print what the commands print.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEMPLATE_VARIABLES } from '../../../../src/actions/email/template-variables.js';
import { fencedBlocks } from '../../../support/markdown.js';
import { runCli } from '../../../support/index.js';

const DOC = readFileSync('docs/rules.md', 'utf8');
const SECTION = DOC.slice(DOC.indexOf('\n## Templates\n'), DOC.indexOf('\n## Policy: guardrails across all rules\n'));
const blocks = fencedBlocks(SECTION);
const block = (info: string) => {
  const found = blocks.filter((b) => b.info === info);
  expect(found, `one block \`\`\`${info} in docs/rules.md, "Templates"`).toHaveLength(1);
  return found[0]!.body;
};
const session = (command: string) => {
  const found = blocks.filter((b) => b.info === 'console' && b.body.startsWith(`$ npx cpiwatch ${command} `));
  expect(found).toHaveLength(1);
  const [first, ...output] = found[0]!.body.split('\n');
  return { args: first!.replace(/^\$ npx cpiwatch /, '').split(' '), output: `${output.join('\n')}\n` };
};

describe('docs/rules.md, "Templates"', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-templates-doc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('shows the shipped template as it is', () => {
    expect(`${block('liquid rules/templates/shipping-apology.liquid')}\n`).toBe(readFileSync('rules/templates/shipping-apology.liquid', 'utf8'));
  });

  it('shows the offer of the shipped rule with offer texts as it is in rules/fulfilment.yaml', () => {
    expect(readFileSync('rules/fulfilment.yaml', 'utf8')).toContain(`${block('yaml rules/fulfilment.yaml')}\n`);
    expect(block('yaml rules/fulfilment.yaml')).toContain('template: shipping-apology');
  });

  it('the rule test excerpt checking rendered titles is in rules/fulfilment.test.yaml', () => {
    const excerpt = fencedBlocks(DOC).filter((b) => b.info === 'yaml rules/fulfilment.test.yaml');
    expect(excerpt).toHaveLength(1);
    expect(readFileSync('rules/fulfilment.test.yaml', 'utf8')).toContain(`${excerpt[0]!.body}\n`);
  });

  it('lists exactly the declared variables, with their samples', () => {
    const rows = SECTION.split('\n').filter((l) => /^\| `[a-z]+\./.test(l));
    const sample = (s: string | number) => (typeof s === 'number' ? String(s) : `\`${s}\``);
    expect(rows).toEqual(TEMPLATE_VARIABLES.map((v) => `| \`${v.name}\` | ${v.description} | ${sample(v.sample)} |`));
  });

  it('its validate session is what validate prints for the broken translation', async () => {
    const rules = join(dir, 'rules');
    cpSync('rules', rules, { recursive: true });
    writeFileSync(join(rules, 'templates', 'shipping-apology.de.liquid'), `${block('liquid rules/templates/shipping-apology.de.liquid')}\n`);
    const { args, output } = session('validate');
    const run = await runCli(args.map((a) => a.replace(/^rules\//, `${rules}/`)));
    expect(run.code).toBe(1);
    expect(run.out.split(`${rules}/`).join('rules/')).toBe(output);
  });

  it('its preview session is what preview prints with the data file', async () => {
    writeFileSync(join(dir, 'zoe.json'), block('json zoe.json'));
    const { args, output } = session('preview');
    const run = await runCli(args.map((a) => (a === 'zoe.json' || a === 'zoe.html' ? join(dir, a) : a)));
    expect(run.code).toBe(0);
    expect(run.out.split(join(dir, 'zoe.html')).join('zoe.html')).toBe(output);
    expect(readFileSync(join(dir, 'zoe.html'), 'utf8')).toContain('<p>Bonjour Zoé,</p>');
  });
});
