// The layers of src/: no import runs from a lower layer to a higher one. Read from the import
// statements (type-only imports count: a type that a lower layer needs belongs in that layer).
//
//   shared/, errors/, config/           plain helpers, the error registry, settings
//   events/ cpis/ windows/ entities/    the domain: events in, ops by entity, windows, rules,
//   stream-time/ rules/ guardrails/     guardrails, actions out (pure: no Kafka, Redis, SMTP,
//   actions/                            logging or settings)
//   pipeline/                           the stages over the domain, on the store's port
//   store/ adapters/ ops/               Redis and memory behind the port; Kafka and SMTP; logs, metrics
//   app/                                the processor wiring it all
//   rule-tests/ < backtest/ < explain/, rebuild/, samples/, lift/   the tools
//   cli/                                the command, which nothing imports
//
// Inside the domain, events/ and windows/ are the bottom (they import no other domain folder); the
// compiled rule model (rules/compiled.ts) is used by cpis/, entities/, stream-time/, guardrails/ and
// actions/, so the numbered data flow of the README is not an import order above those two.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = 'src';

const BASE = ['shared', 'errors'];
const DOMAIN = ['events', 'cpis', 'windows', 'entities', 'stream-time', 'rules', 'guardrails', 'actions'];
const TOOLS = ['backtest', 'rule-tests', 'explain', 'rebuild', 'samples', 'lift'];

/** What a folder may import (`only`: nothing else of src/) or may not (`not`), and why. */
type Rule = { only: string[]; why: string } | { not: string[]; why: string };

const RULES: Record<string, Rule> = {
  shared: { only: ['shared'], why: 'plain helpers every layer may use' },
  errors: { only: BASE, why: 'the error registry, used by every layer' },
  config: { only: [...BASE, 'config'], why: 'settings are read by the adapters and the app, and know none of them' },
  ...Object.fromEntries(DOMAIN.map((d) => [d, { only: [...BASE, ...DOMAIN], why: 'the domain is pure: no store, adapter, app, ops, pipeline, settings or tool' }])),
  events: { only: [...BASE, 'events'], why: 'events in are the bottom of the domain: decoding knows no CPI, rule or window' },
  windows: { only: [...BASE, 'windows'], why: 'the sliding window is the bottom of the domain: rules and CPIs build on it, not the other way' },
  pipeline: {
    only: [...BASE, ...DOMAIN, 'pipeline', 'store/state-store.ts', 'store/memory/'],
    why: 'the stages know nothing of Kafka or Redis: the store only through its port (and the in-memory ledger of pipeline/replay.ts)',
  },
  store: { not: ['adapters', 'app', 'ops', 'cli', ...TOOLS], why: 'the store implements the port and knows nothing above it' },
  adapters: { not: ['app', 'cli', ...TOOLS], why: 'Kafka and SMTP edges are wired by the app, never the other way' },
  ops: { not: ['adapters', 'store', 'app', 'cli', ...TOOLS], why: 'logs, metrics and health are used by the layers above' },
  app: { not: ['cli', ...TOOLS], why: 'the processor is started by the command and the tools, not the other way' },
  'rule-tests': { not: ['app', 'cli', 'backtest', 'explain', 'rebuild'], why: 'the lowest tool: backtest and explain use its formatting' },
  backtest: { not: ['app', 'cli', 'explain', 'rebuild'], why: 'explain uses the backtest sources' },
  explain: { not: ['cli', 'rebuild'], why: 'a tool of the command' },
  rebuild: { not: ['cli'], why: 'a tool of the command' },
  lift: { not: ['app', 'cli', 'explain', 'rebuild'], why: 'a tool of the command: it reads with the backtest sources' },
  samples: { not: ['cli', 'app', 'adapters', 'store'], why: 'sample scenarios are data for the demo and the tests' },
  cli: { not: [], why: 'the top: the command' },
};

/**
 * Imports that break a rule on purpose, "from -> to" (src-relative paths), each with its reason.
 * Keep it empty where possible: a new entry needs a reason a reviewer accepts.
 */
const KNOWN_EXCEPTIONS: Record<string, string> = {};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The relative specifiers a module imports or re-exports (static, side-effect and dynamic). */
function importSpecifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = [
    ...code.matchAll(/\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g),
    ...code.matchAll(/\bimport\s*['"]([^'"]+)['"]/g),
    ...code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return found.filter((s) => s.startsWith('.'));
}

interface Edge { from: string; to: string }

function edges(): Edge[] {
  return sourceFiles(SRC).flatMap((file) => {
    const from = relative(SRC, file).split('\\').join('/');
    return importSpecifiers(readFileSync(file, 'utf8')).map((spec) => ({
      from,
      to: posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, '.ts'),
    }));
  });
}

const folderOf = (path: string) => path.split('/')[0]!;
const matches = (path: string, entry: string) => (entry.includes('/') ? (entry.endsWith('/') ? path.startsWith(entry) : path === entry) : folderOf(path) === entry);

function violations(all: Edge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of all) {
    const own = folderOf(from);
    if (folderOf(to) === own) continue;
    const rule = RULES[own];
    if (!rule) continue; // reported by the test below
    const broken = 'only' in rule ? !rule.only.some((e) => matches(to, e)) : rule.not.some((e) => matches(to, e)) || (own !== 'cli' && folderOf(to) === 'cli');
    if (broken && !KNOWN_EXCEPTIONS[`${from} -> ${to}`]) out.push(`${from} -> ${to} (${own}/: ${rule.why})`);
  }
  return out;
}

describe('layers of src/', () => {
  const all = edges();

  it('reads the imports (a sample of known ones)', () => {
    expect(all.length).toBeGreaterThan(300);
    expect(all).toContainEqual({ from: 'app/processor.ts', to: 'adapters/smtp/email-worker.ts' });
    expect(all).toContainEqual({ from: 'pipeline/replay.ts', to: 'store/memory/memory-store.ts' });
    expect(importSpecifiers("import type { A } from '../a.js';\nexport { b } from './b.js';\nimport './c.js';\nconst d = await import('../d.js');\n// import { e } from './e.js';"))
      .toEqual(['../a.js', './b.js', './c.js', '../d.js']);
  });

  it('gives every folder of src/ a layer', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => !RULES[f])).toEqual([]);
    expect(readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name)).toEqual([]);
  });

  it('has no import from a lower layer to a higher one', () => {
    expect(violations(all)).toEqual([]);
  });

  it('catches one (the rule works)', () => {
    expect(violations([{ from: 'windows/x.ts', to: 'store/state-store.ts' }, { from: 'windows/x.ts', to: 'rules/compiled.ts' }, { from: 'pipeline/x.ts', to: 'adapters/kafka/topics.ts' }, { from: 'pipeline/x.ts', to: 'store/state-store.ts' }, { from: 'app/x.ts', to: 'cli/index.ts' }]))
      .toEqual([
        'windows/x.ts -> store/state-store.ts (windows/: the sliding window is the bottom of the domain: rules and CPIs build on it, not the other way)',
        'windows/x.ts -> rules/compiled.ts (windows/: the sliding window is the bottom of the domain: rules and CPIs build on it, not the other way)',
        'pipeline/x.ts -> adapters/kafka/topics.ts (pipeline/: the stages know nothing of Kafka or Redis: the store only through its port (and the in-memory ledger of pipeline/replay.ts))',
        'app/x.ts -> cli/index.ts (app/: the processor is started by the command and the tools, not the other way)',
      ]);
  });

  it('names only exceptions that still exist', () => {
    const present = new Set(all.map((e) => `${e.from} -> ${e.to}`));
    expect(Object.keys(KNOWN_EXCEPTIONS).filter((k) => !present.has(k))).toEqual([]);
  });
});
