/**
 * Entity tags name the thing state is kept for: "<dimension>=<value>", e.g. "storeId=S1".
 * Values are percent-encoded outside a safe set, byte by byte of their UTF-8 (as in a URL), so a tag
 * can never break a Redis hash tag ({ }), two different values never share a tag, and parseTag
 * gives the value back exactly ("josé" is "jos%C3%A9"; "客户1" is "%E5%AE%A21").
 */
const UNSAFE = /[^A-Za-z0-9._~@+-]/gu;

function escape(c: string): string {
  let out = '';
  for (const byte of Buffer.from(c, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

export function tagOf(dimension: string, value: string | number): string {
  return `${dimension}=${String(value).replace(UNSAFE, escape)}`;
}

/** The dimension and decoded value of a tag. */
export function parseTag(tag: string): { dimension: string; value: string } {
  const i = tag.indexOf('=');
  const raw = tag.slice(i + 1);
  let value = raw;
  if (raw.includes('%')) try { value = decodeURIComponent(raw); } catch { /* keep raw */ }
  return { dimension: tag.slice(0, i), value };
}

export function customerTag(customerId: string): string {
  return tagOf('customerId', customerId);
}

/** A tag as people read it: "storeId=josé" (the value decoded). */
export function scopeText(tag: string): string {
  const { dimension, value } = parseTag(tag);
  return `${dimension}=${value}`;
}
