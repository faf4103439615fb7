/**
 * Escaping for what the e-mail channel sends: HTML text (a customer name of `<script>` cannot
 * inject markup) and header lines (a subject with CR/LF cannot inject headers).
 */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A header-safe single line (no CR/LF or other control characters), at most 200 characters. */
export function headerSafe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 200);
}

/** Plain text of several lines (offer terms): no control characters but line breaks and tabs, trimmed. */
export function textSafe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]+/g, ' ').trim();
}
