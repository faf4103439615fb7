/** The nodemailer SMTP transport from settings: smtp:// or smtps:// URL, optional password override. */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Settings } from '../../config/settings.js';

export function createTransport(s: Pick<Settings, 'SMTP_URL' | 'SMTP_PASSWORD'>): Transporter | undefined {
  if (!s.SMTP_URL) return undefined;
  const url = new URL(s.SMTP_URL);
  if (s.SMTP_PASSWORD) url.password = encodeURIComponent(s.SMTP_PASSWORD);
  return nodemailer.createTransport({
    url: url.toString(),
    pool: true,
    maxConnections: 2,
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 15000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
}
