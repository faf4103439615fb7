/**
 * A warning at start when Kafka or Redis is reached in the clear or without authentication on an
 * address other than loopback (127.0.0.0/8, ::1, localhost): events, offers and the state would
 * cross a network unencrypted, or anyone reaching the port could read and write them. One warn line
 * per dependency, with a stable message to alert on; `reason` says which address and what is
 * missing, naming the settings (docs/operations.md, "Security"). Host names other than localhost
 * are not resolved: a name counts as not loopback.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Settings } from '../config/settings.js';
import type { Logger } from './logger.js';

export const INSECURE_KAFKA_MESSAGE = 'kafka is reached without TLS or without authentication on a non-loopback address';
export const INSECURE_REDIS_MESSAGE = 'redis is reached without TLS or without authentication on a non-loopback address';

export interface TransportFinding {
  dependency: 'kafka' | 'redis';
  /** The addresses (host:port) that are not loopback. */
  addresses: string[];
  missing: Array<'TLS' | 'authentication'>;
  /** One sentence naming the addresses and the settings that would fix it. */
  reason: string;
}

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.x.x or written out), localhost; brackets and a final dot allowed. */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.split('.')[0] === '127';
  if (isIPv6(h)) {
    const canonical = new URL(`http://[${h}]/`).hostname.slice(1, -1); // "0:0::1" -> "::1", "::ffff:127.0.0.1" -> "::ffff:7f00:1"
    if (canonical === '::1') return true;
    const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(canonical);
    return mapped !== null && mapped[1]!.padStart(4, '0').startsWith('7f');
  }
  return false;
}

/** The host of `host:port`, `[v6]:port`, a bare host or a bare IPv6 address. */
export function hostOf(address: string): string {
  const a = address.trim();
  if (a.startsWith('[')) return a.slice(0, a.indexOf(']') + 1 || undefined);
  if (isIPv6(a)) return a;
  const colon = a.lastIndexOf(':');
  return colon < 0 ? a : a.slice(0, colon);
}

function finding(dependency: 'kafka' | 'redis', addresses: string[], tls: boolean, auth: boolean, what: string, fixTls: string, fixAuth: string): TransportFinding | undefined {
  const exposed = addresses.filter((a) => !isLoopbackHost(hostOf(a)));
  const missing = [...(tls ? [] : ['TLS' as const]), ...(auth ? [] : ['authentication' as const])];
  if (exposed.length === 0 || missing.length === 0) return undefined;
  const lacks = [...(tls ? [] : [`without TLS (${fixTls})`]), ...(auth ? [] : [`without authentication (${fixAuth})`])].join(' and ');
  return { dependency, addresses: exposed, missing, reason: `${what} ${exposed.join(', ')} ${lacks}` };
}

/** What would go over the network unprotected with these settings (nothing: an empty list). */
export function transportFindings(s: Pick<Settings, 'KAFKA_BROKERS' | 'KAFKA_SSL' | 'KAFKA_SASL_MECHANISM' | 'REDIS_URL' | 'REDIS_CLUSTER_NODES' | 'REDIS_PASSWORD'>): TransportFinding[] {
  const out: TransportFinding[] = [];
  const kafka = finding('kafka', s.KAFKA_BROKERS, s.KAFKA_SSL, s.KAFKA_SASL_MECHANISM !== 'none', 'KAFKA_BROKERS', 'KAFKA_SSL=false', 'KAFKA_SASL_MECHANISM=none');
  if (kafka) out.push(kafka);
  let url: URL | undefined;
  try { url = new URL(s.REDIS_URL); } catch { /* connectRedis reports a bad URL */ }
  if (url) {
    const cluster = s.REDIS_CLUSTER_NODES.length > 0;
    const addresses = cluster ? s.REDIS_CLUSTER_NODES : [url.port ? `${url.hostname}:${url.port}` : url.hostname];
    const auth = url.username !== '' || url.password !== '' || Boolean(s.REDIS_PASSWORD);
    const redis = finding('redis', addresses, url.protocol === 'rediss:', auth, cluster ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL', 'redis://, not rediss://', 'no user or password in REDIS_URL, no REDIS_PASSWORD');
    if (redis) out.push(redis);
  }
  return out;
}

/** Logs one warning per dependency reached unprotected on a non-loopback address; returns what it found. */
export function warnInsecureTransport(s: Parameters<typeof transportFindings>[0], log: Logger): TransportFinding[] {
  const found = transportFindings(s);
  for (const f of found) {
    if (f.dependency === 'kafka') log.warn({ dependency: f.dependency, reason: f.reason }, INSECURE_KAFKA_MESSAGE);
    else log.warn({ dependency: f.dependency, reason: f.reason }, INSECURE_REDIS_MESSAGE);
  }
  return found;
}
