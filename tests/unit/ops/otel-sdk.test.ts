// The SDK wiring of `cpiwatch run`: nothing without OTEL_EXPORTER_OTLP_ENDPOINT; with it, batch spans
// reach <endpoint>/v1/traces over OTLP/HTTP (a local HTTP server stands in for the collector).
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/ops/logger.js';
import { startTracingSdk, tracesUrl } from '../../../src/ops/otel-sdk.js';
import { endBatchSpan, linkOf, startBatchSpan } from '../../../src/ops/tracing.js';

describe('OpenTelemetry SDK at the entry point', () => {
  afterAll(() => trace.disable());

  it('is not started without an endpoint', async () => {
    expect(await startTracingSdk({ OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_SERVICE_NAME: 'cpiwatch' }, silentLogger())).toBeUndefined();
  });

  it('builds the traces URL from the endpoint', () => {
    expect(tracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl('http://collector:4318/')).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl('http://collector:4318/v1/traces')).toBe('http://collector:4318/v1/traces');
  });

  it('parses W3C traceparents into remote span contexts, rejecting invalid ones', () => {
    expect(linkOf('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')?.context).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    expect(linkOf('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00')?.context.traceFlags).toBe(0);
    for (const bad of ['', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-00000000000000000000000000000000-b7ad6b7169203331-01', '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', '00-XYZ-b7ad6b7169203331-01']) {
      expect(linkOf(bad), bad).toBeUndefined();
    }
  });

  it('exports batch spans with their links to <endpoint>/v1/traces', async () => {
    const requests: { url: string; body: Buffer; type: string }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({ url: req.url ?? '', body: Buffer.concat(chunks), type: String(req.headers['content-type']) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const sdk = await startTracingSdk({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'cpiwatch-test' }, silentLogger());
      expect(sdk).toBeDefined();
      const span = startBatchSpan({ topic: 'shop.events', partition: 3, groupId: 'g', messages: 2, firstOffset: '10', lastOffset: '11', attempt: 1 });
      endBatchSpan(span, { traceparents: ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'], counts: { consumed: 2, applied: 2 }, offers: 0 });
      await sdk!.shutdown();
      expect(requests).toHaveLength(1);
      expect(requests[0]!.url).toBe('/v1/traces');
      // the payload names the service, the span and the linked trace (protobuf: ids as bytes)
      const body = requests[0]!.body;
      expect(body.includes(Buffer.from('cpiwatch-test'))).toBe(true);
      expect(body.includes(Buffer.from('process shop.events'))).toBe(true);
      expect(body.includes(Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex')) || body.includes(Buffer.from('0af7651916cd43dd8448eb211c80319c'))).toBe(true);
    } finally {
      server.close();
    }
  });
});
