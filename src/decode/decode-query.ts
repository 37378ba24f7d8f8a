import { ANOMALY } from './anomaly-codes.js';
import { addAnomaly, childLocation, type DecodeContext, emitKey, emitValue } from './decode-context.js';
import { percentDecode } from './decode-percent.js';

/**
 * Location of a form key, understanding the bracket syntax of PHP, Rails, qs:
 * `a[0][b]` → `prefix.a[0].b`, `ids[]` → `prefix.ids[]`, plain keys → `prefix.key`.
 */
export function formKeyLocation(ctx: DecodeContext, prefix: string, key: string): string {
  const open = key.indexOf('[');
  if (open <= 0 || key.charCodeAt(key.length - 1) !== 93 /* ] */) return childLocation(prefix, key);
  let location = childLocation(prefix, key.slice(0, open));
  let i = open;
  let depth = 0;
  while (i < key.length && key.charCodeAt(i) === 91 /* [ */) {
    const close = key.indexOf(']', i + 1);
    if (close === -1) break;
    if (++depth > ctx.limits.maxDepth) {
      addAnomaly(ctx, ANOMALY.queryDepth, prefix, `bracket key nested deeper than ${ctx.limits.maxDepth}`);
      // Like PHP: the rest of the key is kept as one last segment.
      return `${location}.${key.slice(i)}`;
    }
    const seg = key.slice(i + 1, close);
    location = seg === '' ? `${location}[]` : isIndex(seg) ? `${location}[${seg}]` : childLocation(location, seg);
    i = close + 1;
  }
  // Trailing text that is not a bracket group (`a[b]c]`): keep the literal key.
  return i === key.length ? location : childLocation(prefix, key);
}

function isIndex(s: string): boolean {
  if (s.length === 0 || s.length > 9) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * A key no form builder produces: quotes, parentheses, commas or whitespace. Such a "key" is
 * usually text that was never a form (`'admin', '1'='1'` posted raw), split at its first `=`.
 */
const IMPLAUSIBLE_KEY = /['"`(),\s]/;

function decodeComponent(ctx: DecodeContext, raw: string, prefix: string): string {
  if (raw.indexOf('%') === -1 && raw.indexOf('+') === -1) return raw;
  const d = percentDecode(raw, { plus: true });
  if (d.invalidUtf8) addAnomaly(ctx, ANOMALY.invalidUtf8, prefix, 'percent-encoded bytes are not UTF-8');
  return d.value;
}

/**
 * Walks `a=1&b=2` (query strings and urlencoded bodies). Each parameter gives a key point
 * and a value point at the same location; 'url' joins the chain only when percent or `+`
 * decoding changed the text. A parameter whose key is not a plausible name also gives the
 * rejoined `key=value` as a value point (chain step 'pair'): an application that reads the raw
 * text sees it whole, while neither half alone shows the injection. Returns the number of
 * parameters.
 */
export function walkForm(ctx: DecodeContext, text: string, prefix: string, chain: readonly string[]): number {
  let count = 0;
  let start = 0;
  const n = text.length;
  // The next `=` is remembered: searching it afresh for every pair is quadratic on `a&a&a…=`.
  let eq = -2;
  while (start <= n && !ctx.stopped) {
    let end = text.indexOf('&', start);
    if (end === -1) end = n;
    if (end > start) {
      if (eq !== -1 && eq < start) eq = text.indexOf('=', start);
      const hasValue = eq !== -1 && eq < end;
      const rawKey = text.slice(start, hasValue ? eq : end);
      const rawValue = hasValue ? text.slice(eq + 1, end) : '';
      const key = decodeComponent(ctx, rawKey, prefix);
      const value = decodeComponent(ctx, rawValue, prefix);
      const location = formKeyLocation(ctx, prefix, key);
      emitKey(ctx, location, key, key === rawKey ? chain : [...chain, 'url']);
      emitValue(ctx, location, value, value === rawValue ? chain : [...chain, 'url']);
      if (hasValue && IMPLAUSIBLE_KEY.test(key)) {
        const decoded = key !== rawKey || value !== rawValue;
        emitValue(ctx, location, `${key}=${value}`, decoded ? [...chain, 'url', 'pair'] : [...chain, 'pair'], false);
      }
      count++;
    }
    start = end + 1;
  }
  return count;
}
