/**
 * Guarded JSON parsing for untrusted Kafka values: UTF-8 check, a cheap nesting-depth scan before
 * JSON.parse, and rejection of `__proto__` keys (which a later merge or copy could turn into a
 * prototype change). Never throws.
 */
import { isUtf8 } from 'node:buffer';

export type GuardedJson =
  | { ok: true; value: unknown }
  | { ok: false; problem: 'not-json'; detail: string }
  | { ok: false; problem: 'too-deep'; detail: string }
  | { ok: false; problem: 'forbidden-key'; detail: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const UNDERSCORE = 0x5f;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Counts `{` and `[` bytes (also inside strings), stopping once past `limit`. */
function countOpenings(buf: Uint8Array, limit: number): number {
  let n = 0;
  for (let i = buf.indexOf(OPEN_BRACE); i !== -1 && n <= limit; i = buf.indexOf(OPEN_BRACE, i + 1)) n++;
  for (let i = buf.indexOf(OPEN_BRACKET); i !== -1 && n <= limit; i = buf.indexOf(OPEN_BRACKET, i + 1)) n++;
  return n;
}

/**
 * True if the JSON text in `buf` opens more than `maxDepth` nested objects/arrays. Works on bytes:
 * UTF-8 continuation bytes never look like ASCII, so quotes, backslashes and brackets are exact.
 * Malformed input gives some answer; JSON.parse rejects it afterwards anyway.
 */
export function exceedsDepth(buf: Uint8Array, maxDepth: number): boolean {
  const len = buf.length;
  if (len <= maxDepth) return false; // cannot open more brackets than there are bytes
  if (countOpenings(buf, maxDepth) <= maxDepth) return false; // typical events: a few brackets, native search
  let depth = 0;
  for (let i = 0; i < len; i++) {
    const c = buf[i]!;
    if (c === QUOTE) {
      // skip the string body
      for (i++; i < len; i++) {
        const d = buf[i]!;
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** JSON path of a key for messages: `data.items[2]["odd key"]`; `base` is the prefix ("" or "data"). */
export function pathToString(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && IDENTIFIER.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out === '' ? '(root)' : out;
}

/** In a /u regex a surrogate pair is one code point: only a lone surrogate matches. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Finds the first string or key holding a lone surrogate; returns its path. */
function findLoneSurrogate(value: unknown, path: (string | number)[]): { path: (string | number)[]; key: boolean } | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? { path, key: false } : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [k, v] of entries) {
    path.push(k);
    if (typeof k === 'string' && LONE_SURROGATE.test(k)) return { path, key: true };
    const found = findLoneSurrogate(v, path);
    if (found) return found;
    path.pop();
  }
  return undefined;
}

/** Finds the first own `__proto__` key in a parsed JSON tree (depth already bounded); returns its path. */
function findProtoKey(value: unknown, path: (string | number)[]): (string | number)[] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const found = findProtoKey(value[i], path);
      if (found) return found;
      path.pop();
    }
    return undefined;
  }
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) {
    path.push('__proto__');
    return path;
  }
  for (const key of Object.keys(value)) {
    path.push(key);
    const found = findProtoKey((value as Record<string, unknown>)[key], path);
    if (found) return found;
    path.pop();
  }
  return undefined;
}

/**
 * Parses UTF-8 JSON bytes. `label` names the bytes in messages ("the Kafka value"), `pathBase` is the
 * path prefix of their content ("" for a whole event, "data" for binary-mode data).
 * A leading UTF-8 byte order mark is ignored.
 */
export function parseJsonGuarded(buf: Buffer, maxDepth: number, label: string, pathBase: string): GuardedJson {
  if (!isUtf8(buf)) return { ok: false, problem: 'not-json', detail: `${label} is not valid UTF-8` };
  if (exceedsDepth(buf, maxDepth)) {
    return { ok: false, problem: 'too-deep', detail: label };
  }
  const bom = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
  const text = buf.toString('utf8', bom ? 3 : 0);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, problem: 'not-json', detail: `${label}: ${msg.length > 200 ? `${msg.slice(0, 200)}...` : msg}` };
  }
  // A key that decodes to "__proto__" is spelled literally or with a \u escape. The bytes are
  // searched first (memchr): valid UTF-8 holds the byte of "_" or "\" only where the text has it.
  const escapes = buf.indexOf(BACKSLASH) !== -1 && text.includes('\\u');
  if (escapes || (buf.indexOf(UNDERSCORE) !== -1 && text.includes('__proto__'))) {
    const at = findProtoKey(value, []);
    if (at) return { ok: false, problem: 'forbidden-key', detail: pathToString(pathBase, at) };
  }
  // valid UTF-8 holds no lone surrogate: only a \u escape can make one, and it is no text (it cannot
  // be stored, keyed or sent on as UTF-8, and would turn into U+FFFD, or fail, further on)
  if (escapes) {
    const at = findLoneSurrogate(value, []);
    if (at) return { ok: false, problem: 'not-json', detail: `${label}: the ${at.key ? 'key' : 'string'} at ${pathToString(pathBase, at.path)} holds a lone UTF-16 surrogate (a \\ud800-\\udfff escape without its pair), which is not text` };
  }
  return { ok: true, value };
}

/**
 * True if a parsed JSON tree (depth already bounded) holds a number beyond double range (JSON.parse
 * makes it +-Infinity). A walk of the values, no allocation: cheaper than a scan of the text, and
 * exact (a scan of the text for a 3-digit exponent or 309 digits missed e.g. 308 digits, a
 * fraction and `e1`).
 */
export function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasNonFinite(value[i])) return true;
    return false;
  }
  for (const key in value) if (hasNonFinite((value as Record<string, unknown>)[key])) return true;
  return false;
}

/** Path of the first non-finite number in a parsed JSON tree (depth already bounded), or undefined. */
export function findNonFinite(value: unknown, path: (string | number)[] = []): (string | number)[] | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      if (findNonFinite(value[i], path)) return path;
      path.pop();
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    path.push(key);
    if (findNonFinite((value as Record<string, unknown>)[key], path)) return path;
    path.pop();
  }
  return undefined;
}
