/** `cpiwatch run --rules <dir>`: the stream processor, until SIGTERM/SIGINT. */
import { Processor } from '../../app/processor.js';
import { watchProcessorRules } from '../../app/rules-watcher.js';
import { loadSettings, maskedSettings } from '../../config/settings.js';
import { createLogger } from '../../ops/logger.js';
import { startTracingSdk } from '../../ops/otel-sdk.js';
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
  // the OpenTelemetry SDK only here, at the entry point, and only when an endpoint is configured
  const tracing = await startTracingSdk(settings, log);
  const processor = new Processor({ settings, ruleSet: loaded.ruleSet, log });
  // hot reload: the rules directory is watched, SIGHUP forces a reload (docs/rules.md)
  const watcher = watchProcessorRules(processor, settings.RULES_DIR, log);
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      // whatever still holds the event loop after the outcome is known, the process exits by then
      const exitSoon = (code: number) => {
        resolve(code);
        setTimeout(() => process.exit(code), 2000).unref();
      };
      const deadline = setTimeout(() => {
        log.error({ timeoutMs: settings.SHUTDOWN_TIMEOUT }, 'graceful shutdown timed out');
        exitSoon(1);
      }, settings.SHUTDOWN_TIMEOUT);
      deadline.unref();
      watcher.stop()
        .then(() => processor.stop())
        .then(() => tracing?.shutdown())
        .then(() => { clearTimeout(deadline); log.info({ signal }, 'shut down cleanly'); exitSoon(0); }, (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          exitSoon(1);
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await processor.start();
  await watcher.start();
  io.stderr(`cpiwatch running: ${loaded.ruleSet.rules.length} rules from ${settings.RULES_DIR}, events from ${settings.EVENTS_TOPIC}, http://${settings.HTTP_HOST}:${processor.httpPort ?? settings.HTTP_PORT}/metrics`);
  return stopped;
});
