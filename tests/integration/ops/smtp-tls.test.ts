// SMTP with implicit TLS and password authentication, as configured from settings: the certificate
// is checked against SMTP_TLS_CA_FILE, the password comes from SMTP_PASSWORD (not the URL), and a
// wrong password or an unknown CA fails. The server is an in-process smtp-server with a certificate
// for 127.0.0.1 that a test CA made by openssl signed (tests/support/tls.ts).
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from '../../../src/adapters/smtp/transport.js';
import { loadSettings } from '../../../src/config/settings.js';
import { makeTestTls } from '../../support/index.js';

const tls = makeTestTls('smtp-tls');
const PASSWORD = 'smtp-s3cret';

describe('SMTP over TLS with authentication', () => {
  let server: SMTPServer;
  let port: number;
  const received: { user?: string; to: string[] }[] = [];
  const caFile = tls.caFile;
  const otherCa = tls.otherCaFile;

  beforeAll(async () => {
    server = new SMTPServer({
      secure: true, key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile), logger: false, authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, _session, cb) {
        if (auth.username === 'mailer' && auth.password === PASSWORD) cb(null, { user: 'mailer' });
        else cb(new Error('Invalid username or password'));
      },
      onData(stream, session, cb) {
        stream.resume();
        stream.on('end', () => {
          received.push({ ...(typeof session.user === 'string' ? { user: session.user } : {}), to: session.envelope.rcptTo.map((r) => r.address) });
          cb();
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    tls.remove();
  });

  const send = (env: Record<string, string>) => {
    const transport = createTransport(loadSettings(env))!;
    return transport.sendMail({ from: 'offers@example.com', to: 'customer@example.com', subject: 'x', text: 'y' }).finally(() => transport.close());
  };

  it('sends with the password from SMTP_PASSWORD, verifying the server against SMTP_TLS_CA_FILE', async () => {
    const info = await send({ SMTP_URL: `smtps://mailer@127.0.0.1:${port}`, SMTP_PASSWORD: PASSWORD, SMTP_TLS_CA_FILE: caFile });
    expect(info.accepted).toEqual(['customer@example.com']);
    expect(received.at(-1)).toEqual({ user: 'mailer', to: ['customer@example.com'] });
  });

  it('fails with a wrong password', async () => {
    await expect(send({ SMTP_URL: `smtps://mailer:wrong@127.0.0.1:${port}`, SMTP_TLS_CA_FILE: caFile })).rejects.toThrow(/Invalid username or password|auth/i);
  });

  it('refuses a server whose certificate the CA did not sign', async () => {
    await expect(send({ SMTP_URL: `smtps://mailer@127.0.0.1:${port}`, SMTP_PASSWORD: PASSWORD, SMTP_TLS_CA_FILE: otherCa })).rejects.toThrow(/certificate|self.signed/i);
    await expect(send({ SMTP_URL: `smtps://mailer@127.0.0.1:${port}`, SMTP_PASSWORD: PASSWORD })).rejects.toThrow(/certificate|self.signed/i);
  });
});
