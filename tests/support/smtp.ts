// An in-process SMTP server for e-mail tests: real SMTP on 127.0.0.1, random port, every
// message kept in memory.
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait.js';

export interface CapturedMail {
  from: string;
  to: string[];
  /** the raw RFC 5322 message */
  raw: string;
  subject: string;
  /** header names lower-cased; repeated headers keep the last value */
  headers: Record<string, string>;
  /** everything after the header block (not MIME-decoded) */
  body: string;
  /** AUTH user, when the client authenticated */
  user?: string;
}

export interface TestSmtpServer {
  host: string;
  port: number;
  /** smtp://127.0.0.1:<port> */
  url: string;
  messages: CapturedMail[];
  waitForMessages(count: number, timeoutMs?: number): Promise<CapturedMail[]>;
  /** make the next n messages fail with a 4xx/5xx reply */
  failNext(n: number, code?: number): void;
  stop(): Promise<void>;
}

function parse(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body };
}

/** `port`: a fixed port (e.g. to come back on the same port after stop()); default any free port. */
export async function startSmtpServer(options: { port?: number } = {}): Promise<TestSmtpServer> {
  const messages: CapturedMail[] = [];
  let failures = 0;
  let failCode = 451;
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 1000,
    onAuth(auth, _session, cb) {
      cb(null, { user: auth.username ?? 'anonymous' });
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (failures > 0) {
          failures--;
          const err = Object.assign(new Error('test server: injected failure'), { responseCode: failCode });
          cb(err);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const { headers, body } = parse(raw);
        const mail: CapturedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject: headers.subject ?? '',
          headers,
          body,
        };
        if (typeof session.user === 'string') mail.user = session.user;
        messages.push(mail);
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitForMessages: (count, timeoutMs = 15_000) =>
      waitFor(() => messages.length >= count && [...messages], { timeoutMs, what: `${count} e-mails on port ${port} (got ${messages.length})` }),
    failNext(n, code = 451) {
      failures = n;
      failCode = code;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
