/**
 * Hot reload of the rule files of a running processor: the rules directory is watched (fs.watch,
 * debounced) and SIGHUP forces a reload. A valid rule set replaces the active one atomically
 * (Pipeline.setRules swaps one object; a batch in flight finishes on the rules it started with);
 * an invalid one is rejected with every validation error logged, and the previous rules keep
 * running. Rule state (cooldowns, budgets, pending `for` timers, firing episodes) is keyed by rule
 * id in the state store, so it survives an edit of the rule; offers carry the new rule version.
 *
 * Only regular files inside the rules directory are read (src/rules/load.ts, `entries: 'skip'`): a
 * FIFO, socket or device, or a symbolic link whose real path leaves the directory, is skipped with a
 * warning (once per file and reason, again only after it was gone or changed), and the other files
 * load. A reload that takes longer than `timeoutMs` (RULES_RELOAD_TIMEOUT) is abandoned with an
 * error and the previous rules keep running: its late result is never applied, and later changes
 * and SIGHUP reload again.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../ops/logger.js';
import type { RuleSet } from '../rules/compiled.js';
import type { RuleSetResult } from '../rules/parsed-rule-file.js';
import { loadRuleSet } from '../rules/load.js';
import { formatRuleError, type RuleError } from '../rules/rule-errors.js';

export type ReloadResult =
  | { result: 'ok'; version: string; rules: number; previousVersion: string }
  | { result: 'unchanged'; version: string }
  | { result: 'rejected'; errors: RuleError[] }
  /** Timed out or threw: nothing was applied. */
  | { result: 'failed'; reason: string };

/** Default of `timeoutMs` (the RULES_RELOAD_TIMEOUT setting's default). */
export const DEFAULT_RELOAD_TIMEOUT_MS = 10_000;

/** Reads and compiles the rules at `path`; `skipped`: entries left unread (CPW321 warnings). */
export type RulesLoader = (path: string) => Promise<RuleSetResult & { skipped: RuleError[] }>;

const loadSkipping: RulesLoader = (path) => loadRuleSet([path], { entries: 'skip' });

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
  /** Longest one reload may take before it is abandoned (default DEFAULT_RELOAD_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Reads the rules (default: loadRuleSet skipping what is not a regular file inside the folder). */
  load?: RulesLoader;
}

export class RulesWatcher {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private running?: Promise<ReloadResult>;
  private again = false;
  private stopped = false;
  /** Skipped entries already warned about: file -> message. */
  private readonly warned = new Map<string, string>();
  /** Abandoned (timed-out) loads whose I/O has not settled yet. */
  private abandoned = 0;
  private readonly onSignal = () => { void this.reload('signal'); };

  constructor(private readonly options: RulesWatcherOptions) {}

  async start(): Promise<void> {
    const o = this.options;
    const isDir = (await stat(o.path)).isDirectory();
    if (this.stopped) return; // stopped while starting (a signal during the start)
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

  /** Reloads abandoned after RULES_RELOAD_TIMEOUT whose file I/O is still pending (a hung file system). */
  get stuckReloads(): number {
    return this.abandoned;
  }

  private async load(trigger: string): Promise<ReloadResult> {
    const o = this.options;
    const timeoutMs = o.timeoutMs ?? DEFAULT_RELOAD_TIMEOUT_MS;
    const loading = (o.load ?? loadSkipping)(o.path);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref();
    });
    let loaded: Awaited<ReturnType<RulesLoader>> | 'timeout';
    try {
      loaded = await Promise.race([loading, timedOut]);
    } catch (err) {
      const reason = (err as Error)?.message ?? String(err);
      o.log.error({ trigger, err: reason, path: o.path, activeVersion: o.current().version }, 'rule reload failed; the previous rules keep running');
      return this.failed(trigger, reason);
    } finally {
      clearTimeout(timer);
    }
    if (loaded === 'timeout') {
      // its result, whenever it comes, is dropped; the next reload starts afresh
      this.abandoned++;
      void loading.then(() => undefined, () => undefined).finally(() => { this.abandoned--; });
      o.log.error({ trigger, timeoutMs, path: o.path, activeVersion: o.current().version }, 'rule reload timed out; the previous rules keep running');
      return this.failed(trigger, `no result after ${timeoutMs} ms`);
    }
    this.warnSkipped(loaded.skipped);
    let result: ReloadResult;
    if (this.stopped) {
      result = { result: 'unchanged', version: o.current().version };
    } else if (!loaded.ok) {
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

  private failed(trigger: string, reason: string): ReloadResult {
    const result: ReloadResult = { result: 'failed', reason };
    this.options.count?.('rejected');
    this.options.onReload?.(result, trigger);
    return result;
  }

  /** One warning per skipped file and reason; a file skipped again after it was fine warns again. */
  private warnSkipped(skipped: readonly RuleError[]): void {
    const now = new Map(skipped.map((w) => [w.file, w]));
    for (const [file, w] of now) {
      if (this.warned.get(file) === w.message) continue;
      this.options.log.warn({ file, code: w.code, reason: w.message }, 'rule file skipped: not a regular file inside the rules folder');
    }
    this.warned.clear();
    for (const [file, w] of now) this.warned.set(file, w.message);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    if (this.options.signal !== null) process.off(this.options.signal ?? 'SIGHUP', this.onSignal);
    // a reload in flight is not waited for: bounded by timeoutMs anyway, and once stopped its
    // result is never applied
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
  options: Pick<RulesWatcherOptions, 'debounceMs' | 'signal' | 'onReload' | 'timeoutMs' | 'load'> = {},
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
