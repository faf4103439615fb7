#!/usr/bin/env node
// A tiny SMTP catcher for the local stack: accepts every message (no auth, no TLS) and writes
// it as an .eml file into --dir, so the demo can show the e-mails cpiwatch sends.
//   node scripts/smtp-catcher.mjs --port 12525 --dir .stack/mail [--host 127.0.0.1]
import { SMTPServer } from 'smtp-server';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.CPIWATCH_SMTP_PORT ?? '12525' },
    host: { type: 'string', default: '127.0.0.1' },
    dir: { type: 'string', default: '.stack/mail' },
  },
});
const dir = values.dir;
mkdirSync(dir, { recursive: true });
let seq = 0;

const server = new SMTPServer({
  name: 'cpiwatch-smtp-catcher',
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  banner: 'cpiwatch SMTP catcher',
  closeTimeout: 2000,
  size: 25 * 1024 * 1024,
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = join(dir, `${stamp}-${process.pid}-${String(++seq).padStart(5, '0')}.eml`);
      const envelope =
        `X-Catcher-Mail-From: ${session.envelope.mailFrom ? session.envelope.mailFrom.address : ''}\r\n` +
        `X-Catcher-Rcpt-To: ${session.envelope.rcptTo.map((r) => r.address).join(', ')}\r\n`;
      try {
        writeFileSync(file, Buffer.concat([Buffer.from(envelope), raw]));
        const subject = /^subject:\s*(.*)$/im.exec(raw.toString('utf8'))?.[1] ?? '';
        console.log(
          `${new Date().toISOString()} mail from=<${session.envelope.mailFrom ? session.envelope.mailFrom.address : ''}> ` +
            `to=<${session.envelope.rcptTo.map((r) => r.address).join(',')}> subject=${JSON.stringify(subject)} -> ${file}`,
        );
        callback();
      } catch (err) {
        callback(err);
      }
    });
  },
});
server.on('error', (err) => console.error('smtp-catcher error:', err.message));
server.listen(Number(values.port), values.host, () => {
  console.log(`smtp-catcher listening on ${values.host}:${values.port}, writing to ${dir}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
