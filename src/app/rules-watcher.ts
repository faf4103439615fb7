/**
 * Hot reload of the rule files of a running processor: the rules directory is watched (fs.watch,
 * debounced) and SIGHUP forces a reload. A valid rule set replaces the active one atomically
 * (Pipeline.setRules swaps one object; a batch in flight finishes on the rules it started with);
 * an invalid one is rejected with every validation error logged, and the previous rules keep
 * running. Rule state (cooldowns, budgets, pending `for` timers, firing episodes) is keyed by rule
 * id in the state store, so it survives an edit of the rule; offers carry the new rule version.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../ops/logger.js';
import type { RuleSet } from '../rules/compiled.js';
import { loadRuleSet } from '../rules/load.js';
import { formatRuleError, type RuleError } from '../rules/rule-errors.js';

export type ReloadResult =
  | { result: 'ok'; version: string; rules: number; previousVersion: string }
  | { result: 'unchanged'; version: string }
  | { result: 'rejected'; errors: RuleError[] };

export interface RulesWatcherOptions {
  /** Rules directory (or single rule file). */
  path: string;
  /** The active rule set (its version tells whether anything changed). */
  current: () => RuleSet;
  /** Installs a new rule set. */
  apply: (ruleSet: RuleSet) => void;
  log: Logger;
  /** Counts reloads by result (ok, rejected). */
  count?: (result: 'ok' | 'rejected') => void;
  onReload?: (result: ReloadResult, trigger: string) => void;
  debounceMs?: number;
  /** Signal forcing a reload; null for none. Default SIGHUP. */
  signal?: NodeJS.Signals | null;
}

export class RulesWatcher {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private running?: Promise<ReloadResult>;
  private again = false;
  private stopped = false;
  private readonly onSignal = () => { void this.reload('signal'); };

  constructor(private readonly options: RulesWatcherOptions) {}

  async start(): Promise<void> {
    const o = this.options;
    const isDir = (await stat(o.path)).isDirectory();
    const dir = isDir ? o.path : dirname(o.path);
    const only = isDir ? undefined : basename(o.path);
    try {
      this.watcher = watch(dir, { recursive: isDir, persistent: false }, (_event, file) => {
        if (only !== undefined && file !== null && basename(String(file)) !== only) return;
        this.schedule(file === null ? 'change' : `change of ${String(file)}`);
      });
      this.watcher.on('error', (err) => o.log.warn({ err, path: o.path }, 'rules watch failed; reload with SIGHUP'));
    } catch (err) {
      o.log.warn({ err, path: o.path }, 'cannot watch the rules; reload with SIGHUP');
    }
    if (o.signal !== null) process.on(o.signal ?? 'SIGHUP', this.onSignal);
    o.log.info({ path: o.path, signal: o.signal ?? 'SIGHUP' }, 'watching rules for changes');
  }

  private schedule(trigger: string): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { void this.reload(trigger); }, this.options.debounceMs ?? 200);
    this.timer.unref();
  }

  /** Loads the rules now; concurrent requests are merged (one more load runs after the current one). */
  async reload(trigger = 'request'): Promise<ReloadResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.load(trigger);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.reload(trigger);
      }
    }
  }

  private async load(trigger: string): Promise<ReloadResult> {
    const o = this.options;
    const loaded = await loadRuleSet([o.path]);
    let result: ReloadResult;
    if (!loaded.ok) {
      for (const e of loaded.errors) o.log.error({ file: e.file, line: e.line, col: e.col, code: e.code, path: e.path }, formatRuleError(e));
      o.log.error({ trigger, errors: loaded.errors.length, activeVersion: o.current().version }, 'rule reload rejected; the previous rules keep running');
      o.count?.('rejected');
      result = { result: 'rejected', errors: loaded.errors };
    } else {
      for (const w of loaded.warnings) o.log.warn({ file: w.file, line: w.line, col: w.col, code: w.code }, formatRuleError(w));
      const previous = o.current().version;
      if (loaded.ruleSet.version === previous) {
        o.log.debug({ trigger, version: previous }, 'rules unchanged');
        result = { result: 'unchanged', version: previous };
      } else {
        o.apply(loaded.ruleSet);
        o.count?.('ok');
        o.log.info({ trigger, version: loaded.ruleSet.version, previousVersion: previous, rules: loaded.ruleSet.rules.length }, 'rules reloaded');
        result = { result: 'ok', version: loaded.ruleSet.version, rules: loaded.ruleSet.rules.length, previousVersion: previous };
      }
    }
    o.onReload?.(result, trigger);
    return result;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    if (this.options.signal !== null) process.off(this.options.signal ?? 'SIGHUP', this.onSignal);
    await this.running?.catch(() => undefined);
  }
}

/** What the watcher needs of a processor (src/app/processor.ts). */
export interface ReloadableProcessor {
  setRules(ruleSet: RuleSet): void;
  readonly rules: RuleSet;
  readonly metrics: { ruleReloads: { inc(labels: { result: string }): void } };
}

/** Watches `path` and hot-reloads the processor's rules; call start(), and stop() on shutdown. */
export function watchProcessorRules(
  processor: ReloadableProcessor, path: string, log: Logger,
  options: Pick<RulesWatcherOptions, 'debounceMs' | 'signal' | 'onReload'> = {},
): RulesWatcher {
  return new RulesWatcher({
    path,
    current: () => processor.rules,
    apply: (ruleSet) => processor.setRules(ruleSet),
    count: (result) => processor.metrics.ruleReloads.inc({ result }),
    log,
    ...options,
  });
}
