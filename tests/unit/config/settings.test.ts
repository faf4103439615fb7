// Settings: validated at start-up with messages naming the variable, secrets from the environment or
// <NAME>_FILE, masked wherever they are shown, and every one documented in docs/operations.md.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { loadSettings, maskedSettings, maskUrl, SETTINGS } from '../../../src/config/settings.js';
import { CpiwatchError } from '../../../src/errors/cpiwatch-error.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'cpiwatch-settings-'));

function errorOf(env: Record<string, string>): string {
  try {
    loadSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(CpiwatchError);
    return (err as Error).message;
  }
  throw new Error('expected loadSettings to fail');
}

describe('loadSettings', () => {
  it('has defaults for a local stack', () => {
    const s = loadSettings({});
    expect(s.KAFKA_BROKERS).toEqual(['127.0.0.1:19092']);
    expect(s.SHUTDOWN_TIMEOUT).toBe(30_000);
    expect(s.KAFKA_SASL_MECHANISM).toBe('none');
    expect(s.HTTP_HOST).toBe('127.0.0.1');
  });

  it('names every bad variable, with the reason', () => {
    const message = errorOf({ HTTP_PORT: '70000', SHUTDOWN_TIMEOUT: 'soon', KAFKA_SASL_MECHANISM: 'scram', LOG_LEVEL: 'loud' });
    expect(message).toContain('CPW100');
    expect(message).toMatch(/HTTP_PORT: .*65535/);
    expect(message).toMatch(/SHUTDOWN_TIMEOUT: expected a duration such as "30s" or "5m", got "soon"/);
    expect(message).toMatch(/KAFKA_SASL_MECHANISM: /);
    expect(message).toMatch(/LOG_LEVEL: /);
  });

  it('requires a user name and password with SASL', () => {
    expect(errorOf({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'cpiwatch' })).toMatch(/KAFKA_SASL_PASSWORD: .*required/);
  });

  it('reads secrets from <NAME>_FILE, the environment winning over the file', () => {
    const file = join(tmp, 'sasl-password');
    writeFileSync(file, 's3cret-from-file\n');
    expect(loadSettings({ KAFKA_SASL_PASSWORD_FILE: file }).KAFKA_SASL_PASSWORD).toBe('s3cret-from-file');
    expect(loadSettings({ KAFKA_SASL_PASSWORD_FILE: file, KAFKA_SASL_PASSWORD: 'env' }).KAFKA_SASL_PASSWORD).toBe('env');
    expect(errorOf({ SMTP_PASSWORD_FILE: join(tmp, 'missing') })).toMatch(/CPW101.*missing/);
  });

  it('reads a JSON config file named by CPIWATCH_CONFIG, the environment winning', () => {
    const file = join(tmp, 'config.json');
    writeFileSync(file, JSON.stringify({ EVENTS_TOPIC: 'from-file', HTTP_PORT: 9999, LOG_LEVEL: 'debug' }));
    const s = loadSettings({ CPIWATCH_CONFIG: file, LOG_LEVEL: 'warn' });
    expect(s).toMatchObject({ EVENTS_TOPIC: 'from-file', HTTP_PORT: 9999, LOG_LEVEL: 'warn' });
  });
});

describe('masking', () => {
  const secrets = {
    REDIS_URL: 'rediss://cpiwatch:redis-pass@redis.internal:6380/0',
    REDIS_PASSWORD: 'redis-override',
    SMTP_URL: 'smtps://mailer:smtp-pass@smtp.internal:465?pass=query-pass',
    SMTP_PASSWORD: 'smtp:override',
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: 'cpiwatch',
    KAFKA_SASL_PASSWORD: 'kafka-pass',
  };

  it('masks passwords in URLs and every secret setting', () => {
    const masked = maskedSettings(loadSettings(secrets));
    const text = JSON.stringify(masked);
    for (const secret of ['redis-pass', 'redis-override', 'smtp-pass', 'query-pass', 'smtp:override', 'kafka-pass']) expect(text).not.toContain(secret);
    expect(masked.REDIS_URL).toBe('rediss://cpiwatch:********@redis.internal:6380/0');
    expect(masked.SMTP_URL).toBe('smtps://mailer:********@smtp.internal:465?pass=********');
    expect(masked.KAFKA_SASL_PASSWORD).toBe('********');
    expect(masked.KAFKA_SASL_USERNAME).toBe('cpiwatch');
  });

  it('leaves URLs without credentials readable and masks what is not a URL', () => {
    expect(maskUrl('redis://127.0.0.1:16379')).toBe('redis://127.0.0.1:16379');
    expect(maskUrl('not a url: secret')).toBe('********');
  });

  it('every secret setting is marked secret', () => {
    for (const name of Object.keys(SETTINGS)) {
      if (/PASSWORD|SECRET|TOKEN/.test(name)) expect(SETTINGS[name as keyof typeof SETTINGS].secret, name).toBe(true);
    }
  });
});

describe('cpiwatch config', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  const run = (argv: string[]) => runCli(argv);

  it('prints the effective configuration as JSON with secrets masked', async () => {
    Object.assign(process.env, secrets(), { EVENTS_TOPIC: 'shop.events' });
    const { code, out } = await run(['config']);
    expect(code).toBe(0);
    const printed = JSON.parse(out) as Record<string, unknown>;
    expect(printed.EVENTS_TOPIC).toBe('shop.events');
    expect(Object.keys(printed).sort()).toEqual(Object.keys(SETTINGS).sort());
    expect(out).not.toMatch(/redis-pass|smtp-pass|kafka-pass/);
    const env = await run(['config', '--format', 'env']);
    expect(env.out).toContain('EVENTS_TOPIC=shop.events');
    expect(env.out).toContain('KAFKA_SASL_PASSWORD=********');
    expect(env.out).not.toMatch(/redis-pass|smtp-pass|kafka-pass/);
  });

  it('exits 1 naming the bad variable', async () => {
    process.env.HTTP_PORT = 'eighty';
    const { code, err } = await run(['config']);
    expect(code).toBe(1);
    expect(err).toMatch(/CPW100.*HTTP_PORT/);
  });

  function secrets() {
    return { REDIS_URL: 'redis://u:redis-pass@h:1', SMTP_URL: 'smtp://u:smtp-pass@h:25', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'kafka-pass' };
  }
});

describe('docs/operations.md', () => {
  it('documents every setting', () => {
    const docs = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const missing = Object.keys(SETTINGS).filter((name) => !docs.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
