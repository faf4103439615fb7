/** The nodemailer SMTP transport from settings: smtp:// or smtps:// URL, optional password override. */
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Settings } from '../../config/settings.js';

export function createTransport(s: Pick<Settings, 'SMTP_URL' | 'SMTP_PASSWORD'> & Partial<Pick<Settings, 'SMTP_TLS_CA_FILE'>>): Transporter | undefined {
  if (!s.SMTP_URL) return undefined;
  const url = new URL(s.SMTP_URL);
  if (s.SMTP_PASSWORD) url.password = encodeURIComponent(s.SMTP_PASSWORD);
  return nodemailer.createTransport({
    url: url.toString(),
    ...(s.SMTP_TLS_CA_FILE ? { tls: { ca: readFileSync(s.SMTP_TLS_CA_FILE, 'utf8') } } : {}),
    pool: true,
    maxConnections: 2,
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 15000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
}
