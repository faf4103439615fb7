// The start-up warning about Kafka or Redis reached without TLS or without authentication on an
// address other than loopback: which addresses count as loopback, what each setting combination
// finds, and the one stable warn line per dependency (fields in the documented log fields).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/settings.js';
import { createLogger } from '../../../src/ops/logger.js';
import { hostOf, INSECURE_KAFKA_MESSAGE, INSECURE_REDIS_MESSAGE, isLoopbackHost, transportFindings, warnInsecureTransport } from '../../../src/ops/transport-security.js';

const settings = (env: Record<string, string>) => loadSettings(env);

describe('isLoopbackHost', () => {
  it.each([
    '127.0.0.1', '127.255.1.2', 'localhost', 'LOCALHOST', 'localhost.', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '[::ffff:7f00:1]',
  ])('%s is loopback', (h) => expect(isLoopbackHost(h)).toBe(true));

  it.each([
    '10.0.0.5', '128.0.0.1', '0.0.0.0', '::', '::2', '::ffff:10.0.0.1', 'kafka', 'localhost.example.com', 'my-localhost', '127.0.0.1.nip.io', 'fe80::1',
  ])('%s is not', (h) => expect(isLoopbackHost(h)).toBe(false));

  it('hostOf takes the host of host:port, [v6]:port, a bare host or a bare IPv6 address', () => {
    expect(hostOf('kafka-1:9092')).toBe('kafka-1');
    expect(hostOf('[::1]:9092')).toBe('[::1]');
    expect(hostOf('kafka-1')).toBe('kafka-1');
    expect(hostOf('::1')).toBe('::1');
    expect(hostOf(' 10.0.0.5:9092 ')).toBe('10.0.0.5');
  });
});

describe('transportFindings', () => {
  it('finds nothing on loopback, whatever the security settings (the local stack, tests)', () => {
    expect(transportFindings(settings({}))).toEqual([]);
    expect(transportFindings(settings({ KAFKA_BROKERS: 'localhost:9092,[::1]:9093,127.0.0.2:9094', REDIS_URL: 'redis://localhost:6379' }))).toEqual([]);
    expect(transportFindings(settings({ REDIS_CLUSTER_NODES: '127.0.0.1:17000,127.0.0.1:17001' }))).toEqual([]);
  });

  it('Kafka in the clear and without SASL on a remote broker: both missing, only the remote addresses named', () => {
    const [kafka, ...rest] = transportFindings(settings({ KAFKA_BROKERS: '127.0.0.1:19092,kafka-1:9092,10.0.0.5:9092' }));
    expect(rest).toEqual([]);
    expect(kafka).toEqual({
      dependency: 'kafka', addresses: ['kafka-1:9092', '10.0.0.5:9092'], missing: ['TLS', 'authentication'],
      reason: 'KAFKA_BROKERS kafka-1:9092, 10.0.0.5:9092 without TLS (KAFKA_SSL=false) and without authentication (KAFKA_SASL_MECHANISM=none)',
    });
  });

  it('Kafka with only one of TLS and SASL: the other is missing; with both: nothing', () => {
    const sasl = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' };
    expect(transportFindings(settings({ KAFKA_BROKERS: 'kafka:9093', KAFKA_SSL: 'true' }))[0]?.missing).toEqual(['authentication']);
    expect(transportFindings(settings({ KAFKA_BROKERS: 'kafka:9094', ...sasl }))[0]?.missing).toEqual(['TLS']);
    expect(transportFindings(settings({ KAFKA_BROKERS: 'kafka:9095', KAFKA_SSL: 'true', ...sasl }))).toEqual([]);
  });

  it('Redis: rediss:// is TLS; a user or password in the URL or REDIS_PASSWORD is authentication; the cluster seeds are the addresses', () => {
    expect(transportFindings(settings({ REDIS_URL: 'redis://redis.internal:6379' }))).toEqual([{
      dependency: 'redis', addresses: ['redis.internal:6379'], missing: ['TLS', 'authentication'],
      reason: 'REDIS_URL redis.internal:6379 without TLS (redis://, not rediss://) and without authentication (no user or password in REDIS_URL, no REDIS_PASSWORD)',
    }]);
    expect(transportFindings(settings({ REDIS_URL: 'rediss://redis.internal' }))[0]).toMatchObject({ addresses: ['redis.internal'], missing: ['authentication'] });
    expect(transportFindings(settings({ REDIS_URL: 'redis://cpiwatch@redis.internal:6379', REDIS_PASSWORD: 'x' }))[0]?.missing).toEqual(['TLS']);
    expect(transportFindings(settings({ REDIS_URL: 'redis://:secret@redis.internal:6379' }))[0]?.missing).toEqual(['TLS']);
    expect(transportFindings(settings({ REDIS_URL: 'rediss://cpiwatch:secret@redis.internal:6380' }))).toEqual([]);
    expect(transportFindings(settings({ REDIS_URL: 'redis://127.0.0.1', REDIS_CLUSTER_NODES: '10.0.0.7:7000,127.0.0.1:7001' }))[0]).toMatchObject({
      addresses: ['10.0.0.7:7000'], reason: expect.stringMatching(/^REDIS_CLUSTER_NODES 10\.0\.0\.7:7000 without TLS/),
    });
  });

  it('never names a password', () => {
    const found = transportFindings(settings({ REDIS_URL: 'redis://cpiwatch:hunter2@redis.internal:6379', KAFKA_BROKERS: 'kafka:9092' }));
    expect(JSON.stringify(found)).not.toContain('hunter2');
  });
});

describe('warnInsecureTransport', () => {
  it('logs one warn line per dependency with a stable message, and nothing when all is loopback', () => {
    let raw = '';
    const stream = new Writable({ write(chunk, _enc, cb) { raw += String(chunk); cb(); } });
    const log = createLogger('info', stream);
    warnInsecureTransport(settings({ KAFKA_BROKERS: 'kafka-1:9092,kafka-2:9092', REDIS_URL: 'redis://redis:6379' }), log);
    warnInsecureTransport(settings({}), log);
    const lines = raw.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.level, l.msg, l.dependency])).toEqual([
      ['warn', INSECURE_KAFKA_MESSAGE, 'kafka'],
      ['warn', INSECURE_REDIS_MESSAGE, 'redis'],
    ]);
    expect(INSECURE_KAFKA_MESSAGE).toBe('kafka is reached without TLS or without authentication on a non-loopback address');
    expect(INSECURE_REDIS_MESSAGE).toBe('redis is reached without TLS or without authentication on a non-loopback address');
    expect(lines[0]!.reason).toBe('KAFKA_BROKERS kafka-1:9092, kafka-2:9092 without TLS (KAFKA_SSL=false) and without authentication (KAFKA_SASL_MECHANISM=none)');
  });
});
