/** `cpiwatch run --rules <dir>`: the stream processor, until SIGTERM/SIGINT. */
import { Processor } from '../../app/processor.js';
import { watchProcessorRules } from '../../app/rules-watcher.js';
import { loadSettings, maskedSettings } from '../../config/settings.js';
import { liveAccess } from '../../ops/live/live-routes.js';
import { createLogger } from '../../ops/logger.js';
import { startTracingSdk } from '../../ops/otel-sdk.js';
import { warnInsecureTransport } from '../../ops/transport-security.js';
import { formatRuleError } from '../../rules/rule-errors.js';
import { loadRuleSet } from '../../rules/load.js';
import { defineCommand } from '../flags.js';

export const runCommand = defineCommand({
  name: 'run',
  usage: ['cpiwatch run [--rules <dir>]'],
  description: `Consumes customer events from Kafka (EVENTS_TOPIC), keeps CPI windows in Redis, evaluates the rules
and publishes offers (OFFERS_TOPIC) and decisions (DECISIONS_TOPIC). Settings come from environment
variables (see \`cpiwatch config\` and docs/operations.md). Rule files are reloaded when they change
or on SIGHUP (an invalid change is logged and ignored). Stops gracefully on SIGTERM or SIGINT.`,
  options: {
    rules: { type: 'string', value: 'dir', description: 'the rule files (a directory or a file; default: RULES_DIR, else rules)' },
  },
}, async ({ rules }, _args, io) => {
  const settings = loadSettings(rules !== undefined ? { ...process.env, RULES_DIR: rules } : process.env);
  const log = createLogger(settings.LOG_LEVEL);
  const loaded = await loadRuleSet([settings.RULES_DIR]);
  if (!loaded.ok) {
    for (const e of loaded.errors) io.stderr(formatRuleError(e));
    io.stderr(`${loaded.errors.length} error(s) in ${settings.RULES_DIR}; not starting`);
    return 1;
  }
  log.info({ settings: maskedSettings(settings) }, 'effective configuration');
  // Kafka or Redis without TLS or authentication outside loopback: one warning each
  warnInsecureTransport(settings, log);
  // the OpenTelemetry SDK only here, at the entry point, and only when an endpoint is configured
  const tracing = await startTracingSdk(settings, log);
  const processor = new Processor({ settings, ruleSet: loaded.ruleSet, log });
  // hot reload: the rules directory is watched, SIGHUP forces a reload (docs/rules.md)
  const watcher = watchProcessorRules(processor, settings.RULES_DIR, log, { timeoutMs: settings.RULES_RELOAD_TIMEOUT });
  let stopping = false;
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, timeoutMs: settings.SHUTDOWN_TIMEOUT }, 'shutting down');
      // each step of the graceful stop, in order; the deadline names the ones not done
      const steps: Array<[name: string, run: () => Promise<unknown>]> = [
        ['the rules watcher', () => watcher.stop()],
        ['the processor (the batch in flight and its transaction, leaving the consumer groups, the e-mail channel, Redis, the HTTP endpoint)', () => processor.stop()],
        ['flushing the traces', async () => { await tracing?.shutdown(); }],
      ];
      const pending = new Set(steps.map(([name]) => name));
      const exit = (code: number) => {
        process.exitCode = code;
        resolve(code);
      };
      // ref'd: a stop stuck on a promise that nothing else keeps alive still ends here, with 1
      const deadline = setTimeout(() => {
        const reason = pendingReason(pending, processor.health.report().checks, watcher.stuckReloads);
        log.error({ signal, timeoutMs: settings.SHUTDOWN_TIMEOUT, reason }, 'graceful shutdown timed out');
        exit(1);
        process.exit(1);
      }, settings.SHUTDOWN_TIMEOUT);
      (async () => {
        for (const [name, run] of steps) {
          await run();
          pending.delete(name);
        }
      })().then(() => {
        clearTimeout(deadline);
        log.info({ signal }, 'shut down cleanly');
        exit(0);
        // whatever still holds the event loop after the outcome is known, the process exits by then
        setTimeout(() => process.exit(0), 2000).unref();
      }, (err: unknown) => {
        clearTimeout(deadline);
        const reason = pendingReason(pending, {}, watcher.stuckReloads);
        log.error({ err, reason }, 'shutdown failed');
        exit(1);
        setTimeout(() => process.exit(1), 2000).unref();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await processor.start();
  // a signal during the start: the processor's start returned early, nothing more to start
  if (stopping) return stopped;
  await watcher.start();
  const base = `http://${settings.HTTP_HOST}:${processor.httpPort ?? settings.HTTP_PORT}`;
  const live = liveAccess(settings);
  io.stderr(`cpiwatch running: ${loaded.ruleSet.rules.length} rules from ${settings.RULES_DIR}, events from ${settings.EVENTS_TOPIC}, ${base}/metrics${live === 'off' || live === 'refused' ? '' : `, live page ${base}/live`}`);
  return stopped;
});

/** `still pending: <steps>; not ok: redis: <detail>` for the log line of a shutdown that did not finish. */
function pendingReason(pending: ReadonlySet<string>, checks: Readonly<Record<string, { ok: boolean; detail: string }>>, stuckReloads: number): string {
  const failing = Object.entries(checks).filter(([, c]) => !c.ok).map(([name, c]) => `${name}: ${c.detail}`);
  return [
    `still pending: ${[...pending].join(', ') || 'nothing'}`,
    ...(stuckReloads > 0 ? [`${stuckReloads} abandoned rule reload(s) still in file I/O`] : []),
    ...(failing.length > 0 ? [`not ok: ${failing.join('; ')}`] : []),
  ].join('; ');
}
