import type { Detector, Hit } from '../core/model.js';
import { selectHits } from './detect-util.js';
import { hasPercentEscapes, percentDecode } from './normalize.js';
import { analyzeSql, cannotBeSql } from './sql-fingerprint.js';

/**
 * SQL injection: lexes each value in the as-is, single-quote and double-quote contexts and
 * matches the token sequence against the injection grammar (see sql-fingerprint.ts).
 * Values that still carry percent-escapes (double encoding) are also checked decoded, and path
 * segments with `+` also with `+` read as a space.
 */
/**
 * A Cookie header made only of `name=value` pairs of plain characters (letters, digits, `_ . ~ -`,
 * base64 padding), none of which is a SQL keyword glued to its `=`, has no SQL syntax of its
 * own: no quote, bracket, operator, comment or space inside a pair. Whatever a client puts in one cookie is judged as that cookie's own point
 * (`cookie.<name>`); session ids make the whole header unique per client, so the point cache
 * never helps and lexing it in every context was ~14 µs of the load mix's ~115 µs per request.
 * Property-tested in test/sql-prefilter.test.ts.
 */
const PLAIN_COOKIES = /^[A-Za-z_][\w-]*=[\w.~-]*={0,2}(?:; ?[A-Za-z_][\w-]*=[\w.~-]*={0,2})*;?$/;
/** Glued to `=` and a neighbour, these still make SQL out of plain pairs (`where=1`, `x=select.5`). */
const SQL_GLUE =
  /select|union|(?:^|[; ])(?:where|and|or|xor|not|div|like|rlike|regexp|is|in|by|having|limit|true|false|null|order|group|drop|delete|insert|update|create|alter|truncate|exec|execute|declare|set|shutdown|grant|call)[-=]/i;

/** True for a Cookie header whose SQLi analysis the per-cookie points make redundant (see above). */
export function isPlainCookieHeader(value: string): boolean {
  return PLAIN_COOKIES.test(value) && !SQL_GLUE.test(value);
}

export const sqliDetector: Detector = {
  id: 'sqli',
  inspectPoint(point, ctx) {
    const value = point.value;
    // Most values (ids, words, e-mails, paths, dates …) cannot be SQL at all: skip the lexer.
    if (value.length < 2 || cannotBeSql(value)) return [];
    if (point.location === 'header.cookie' && isPlainCookieHeader(value)) return [];
    const hits: Hit[] = analyzeSql(value, ctx.deadline).hits;
    if (hasPercentEscapes(value)) {
      const decoded = percentDecode(value);
      if (decoded !== value) hits.push(...analyzeSql(decoded, ctx.deadline).hits);
      // A still-encoded form value (`%22+WAITFOR+DELAY+%27` in XML, JSON …) also means `+` = space.
      if (value.includes('+')) hits.push(...analyzeSql(percentDecode(value.replace(/\+/g, ' ')), ctx.deadline).hits);
    } else if (point.location.startsWith('path.') && value.includes('+')) {
      // `/item/2+union+all`: routers that decode segments with PHP `urldecode` or Java `URLDecoder`
      // read `+` as a space, though RFC 3986 keeps it literal in a path.
      hits.push(...analyzeSql(value.replace(/\+/g, ' '), ctx.deadline).hits);
    }
    return selectHits(hits, ctx.sensitivity, point.location);
  },
};
