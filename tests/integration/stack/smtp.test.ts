// SMTP: the in-process test server helper and the stack's SMTP catcher script, with nodemailer.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { startSmtpServer, waitFor } from '../../support/index.js';

describe('SMTP', () => {
  it('the in-process test server receives what nodemailer sends', async () => {
    const smtp = await startSmtpServer();
    try {
      const transport = nodemailer.createTransport(smtp.url);
      await transport.sendMail({ from: 'offers@cpiwatch.test', to: 'ana@example.com', subject: 'A drink on us', text: 'Sorry for the wait.' });
      const [mail] = await smtp.waitForMessages(1);
      expect(mail!.to).toEqual(['ana@example.com']);
      expect(mail!.subject).toBe('A drink on us');
      expect(mail!.body).toContain('Sorry for the wait.');

      smtp.failNext(1, 451);
      await expect(transport.sendMail({ from: 'a@b.test', to: 'c@d.test', subject: 'x', text: 'y' })).rejects.toThrow(/451/);
      transport.close();
    } finally {
      await smtp.stop();
    }
  });

  it('scripts/smtp-catcher.mjs writes each message as an .eml file', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const dir = mkdtempSync(join(tmpdir(), 'cpiwatch-mail-'));
    const child = spawn(process.execPath, ['scripts/smtp-catcher.mjs', '--port', String(port), '--dir', dir], { stdio: 'pipe' });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('listening'), { timeoutMs: 10_000, what: 'the catcher to listen' });
      const transport = nodemailer.createTransport(`smtp://127.0.0.1:${port}`);
      await transport.sendMail({ from: 'offers@cpiwatch.test', to: 'bo@example.com', subject: 'Curbside', text: 'Coffee?' });
      transport.close();
      const files = await waitFor(() => {
        const f = readdirSync(dir).filter((n) => n.endsWith('.eml'));
        return f.length > 0 && f;
      }, { timeoutMs: 10_000, what: 'an .eml file' });
      const eml = readFileSync(join(dir, files[0]!), 'utf8');
      expect(eml).toContain('Subject: Curbside');
      expect(eml).toContain('X-Catcher-Rcpt-To: bo@example.com');
    } finally {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
