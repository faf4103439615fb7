/**
 * Entity tags name the thing state is kept for: "<dimension>=<value>", e.g. "storeId=S1".
 * Values are percent-encoded outside a safe set, so a tag can never break a Redis hash tag ({ }).
 */
const UNSAFE = /[^A-Za-z0-9._~@+-]/g;

export function tagOf(dimension: string, value: string | number): string {
  return `${dimension}=${String(value).replace(UNSAFE, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}`;
}

/** The dimension and decoded value of a tag. */
export function parseTag(tag: string): { dimension: string; value: string } {
  const i = tag.indexOf('=');
  const raw = tag.slice(i + 1);
  let value = raw;
  try { value = decodeURIComponent(raw); } catch { /* keep raw */ }
  return { dimension: tag.slice(0, i), value };
}

export function customerTag(customerId: string): string {
  return tagOf('customerId', customerId);
}
