// docker-compose.yml and Dockerfile cannot run on our machines (no Docker engine), so their
// structure is checked here: services, KRaft settings that must agree with each other, health
// checks, and a multi-stage, non-root image.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Service {
  image?: string;
  hostname?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string; interval?: string; retries?: number };
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const env = (name: string) => Object.fromEntries(Object.entries(svc(name).environment ?? {}).map(([k, v]) => [k, String(v)]));
/** "NAME://host:port,..." -> { NAME: { host, port } } */
const listeners = (s: string) =>
  Object.fromEntries(
    s.split(',').map((l) => {
      const m = /^([A-Z_]+):\/\/([^:]*):(\d+)$/.exec(l.trim());
      if (!m) throw new Error(`bad listener ${l}`);
      return [m[1]!, { host: m[2]!, port: Number(m[3]) }];
    }),
  );

describe('docker-compose.yml', () => {
  it('has kafka, redis, an SMTP catcher, prometheus and the processor', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['cpiwatch', 'kafka', 'mailpit', 'prometheus', 'redis']);
    expect(svc('kafka').image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    expect(svc('redis').image).toMatch(/^redis:/);
    expect(svc('mailpit').image).toMatch(/^axllent\/mailpit:/);
    expect(svc('prometheus').image).toMatch(/^prom\/prometheus:/);
    expect(svc('cpiwatch').build).toBeDefined();
  });

  it('runs the same Kafka version as the local stack (scripts/kafka/pom.xml)', () => {
    const pinned = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(read('scripts/kafka/pom.xml'))?.[1];
    expect(pinned).toMatch(/^4\.\d+\.\d+$/);
    expect(svc('kafka').image).toBe(`apache/kafka:${pinned}`);
  });

  it('configures Kafka as a consistent single-node KRaft broker+controller', () => {
    const k = env('kafka');
    expect(k.KAFKA_PROCESS_ROLES!.split(',').sort()).toEqual(['broker', 'controller']);
    // a KRaft cluster id is 16 bytes in base64url without padding
    expect(k.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(k.CLUSTER_ID!, 'base64url')).toHaveLength(16);
    const nodeId = k.KAFKA_NODE_ID!;
    const [voterId, voterAddr] = k.KAFKA_CONTROLLER_QUORUM_VOTERS!.split('@');
    expect(voterId).toBe(nodeId);

    const ls = listeners(k.KAFKA_LISTENERS!);
    const adv = listeners(k.KAFKA_ADVERTISED_LISTENERS!);
    const protocolMap = Object.fromEntries(k.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP!.split(',').map((p) => p.split(':')));
    const controller = k.KAFKA_CONTROLLER_LISTENER_NAMES!;
    expect(ls[controller]).toBeDefined();
    expect(voterAddr).toBe(`kafka:${ls[controller]!.port}`);
    expect(svc('kafka').hostname ?? 'kafka').toBe('kafka');
    // every listener has a protocol; the controller listener is not advertised
    for (const name of Object.keys(ls)) expect(protocolMap[name], name).toBeDefined();
    expect(adv[controller]).toBeUndefined();
    for (const [name, a] of Object.entries(adv)) expect(ls[name]?.port, `advertised ${name}`).toBe(a.port);
    expect(adv[k.KAFKA_INTER_BROKER_LISTENER_NAME!]).toBeDefined();

    // single node: internal topics need replication factor 1
    expect(k.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('1');
    expect(k.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe('1');
    expect(k.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR).toBe('1');

    // the processor reaches the broker through an advertised in-network listener
    const brokers = env('cpiwatch').KAFKA_BROKERS!.split(',');
    for (const b of brokers) {
      const [host, port] = b.split(':');
      expect(Object.values(adv).some((a) => a.host === host && a.port === Number(port)), b).toBe(true);
    }
    // the host-facing listener is published
    const external = Object.values(adv).find((a) => a.host === 'localhost');
    expect(external).toBeDefined();
    expect(svc('kafka').ports).toContain(`${external!.port}:${external!.port}`);
    // data is on a volume, in the folder the image prepares for it
    expect(k.KAFKA_LOG_DIRS).toBe('/var/lib/kafka/data');
    expect(svc('kafka').volumes?.some((v) => v.endsWith(':/var/lib/kafka/data'))).toBe(true);
  });

  it('runs the processor with its settings, after its dependencies are healthy', () => {
    const c = svc('cpiwatch');
    expect(c.command).toEqual(['node', 'bin/cpiwatch.js', 'run', '--rules', '/app/rules']);
    const e = env('cpiwatch');
    expect(e.REDIS_URL).toBe('redis://redis:6379');
    expect(e.SMTP_URL).toBe('smtp://mailpit:1025');
    expect(e.HTTP_PORT).toBe('9464');
    expect(e.HTTP_HOST).toBe('0.0.0.0');
    expect(c.ports).toContain('9464:9464');
    for (const dep of ['kafka', 'redis', 'mailpit']) {
      expect(c.depends_on?.[dep]?.condition, dep).toBe('service_healthy');
    }
    expect(c.volumes).toContain('./rules:/app/rules:ro');
  });

  it('gives the processor more time to stop than its own shutdown deadline', () => {
    const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)?.[1] ?? NaN);
    const c = svc('cpiwatch') as Service & { stop_grace_period?: string };
    expect(seconds(c.stop_grace_period ?? '10s')).toBeGreaterThan(seconds(env('cpiwatch').SHUTDOWN_TIMEOUT ?? '30s'));
  });

  it('gives every long-running service a health check', () => {
    for (const name of Object.keys(compose.services)) {
      const hc = svc(name).healthcheck;
      expect(hc, name).toBeDefined();
      expect(Array.isArray(hc!.test) ? hc!.test[0] : 'CMD-SHELL', name).toMatch(/^CMD(-SHELL)?$/);
    }
    expect(JSON.stringify(svc('cpiwatch').healthcheck!.test)).toContain('http://127.0.0.1:9464/healthz');
  });

  it('has Prometheus scrape cpiwatch:9464/metrics', () => {
    const vol = svc('prometheus').volumes?.find((v) => v.includes('/etc/prometheus/prometheus.yml'));
    expect(vol).toBeDefined();
    const file = vol!.split(':')[0]!;
    const prom = parse(read(file)) as { scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }> };
    const job = prom.scrape_configs.find((j) => j.static_configs.some((s) => s.targets.includes('cpiwatch:9464')));
    expect(job).toBeDefined();
    expect(job!.metrics_path ?? '/metrics').toBe('/metrics');
  });

  it('declares the named volumes it uses', () => {
    for (const s of Object.values(compose.services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(compose.volumes ?? {}).toHaveProperty(source);
      }
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const lines = dockerfile.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const froms = lines.filter((l) => /^FROM\s/i.test(l));

  it('is multi-stage on node 24 (the target LTS)', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM node:24-slim( AS \w+)?$/i);
    expect(dockerfile).toMatch(/COPY --from=build /);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('runs as a non-root user with a health check on /healthz', () => {
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const users = finalStage.split('\n').filter((l) => /^USER\s/i.test(l.trim()));
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.trim().split(/\s+/)[1]).not.toMatch(/^(root|0)(:.*)?$/);
    expect(finalStage).toMatch(/^HEALTHCHECK /m);
    expect(finalStage).toContain('http://127.0.0.1:9464/healthz');
    expect(finalStage).toMatch(/^ENV [\s\S]*HTTP_HOST=0\.0\.0\.0/m);
  });

  it('is documented in docs/operations.md, with compose and Prometheus', () => {
    const docs = read('docs/operations.md');
    for (const s of ['Dockerfile', 'docker-compose.yml', 'HEALTHCHECK', 'deploy/prometheus.yml', 'stop_grace_period']) expect(docs).toContain(s);
  });

  it('keeps local state out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', '.stack', '.git', 'dist']) expect(ignored).toContain(p);
  });
});
