/**
 * The OpenTelemetry SDK, wired only by the entry point (`cpiwatch run`) and only when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set: spans go to `<endpoint>/v1/traces` (OTLP over HTTP, protobuf
 * JSON) in batches. Library code uses @opentelemetry/api alone (src/ops/tracing.ts). The SDK
 * packages are imported lazily so a run without tracing never loads them.
 */
import { readFileSync } from 'node:fs';
import type { Settings } from '../config/settings.js';
import type { Logger } from './logger.js';

export interface TracingSdk {
  /** Flushes pending spans and stops exporting. */
  shutdown(): Promise<void>;
}

/** `<endpoint>/v1/traces`, unless the endpoint already names the traces path. */
export function tracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return base.endsWith('/v1/traces') ? base : `${base}/v1/traces`;
}

export async function startTracingSdk(
  s: Pick<Settings, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>,
  log: Logger,
): Promise<TracingSdk | undefined> {
  if (!s.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const url = tracesUrl(s.OTEL_EXPORTER_OTLP_ENDPOINT);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': s.OTEL_SERVICE_NAME, 'service.version': version }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  provider.register();
  log.info({ url }, 'OpenTelemetry tracing enabled');
  return {
    shutdown: () => provider.shutdown().catch((err: Error) => log.warn({ err: err.message }, 'OpenTelemetry shutdown failed')),
  };
}
