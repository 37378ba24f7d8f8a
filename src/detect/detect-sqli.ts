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
export const sqliDetector: Detector = {
  id: 'sqli',
  inspectPoint(point, ctx) {
    const value = point.value;
    // Most values (ids, words, e-mails, paths, dates …) cannot be SQL at all: skip the lexer.
    if (value.length < 2 || cannotBeSql(value)) return [];
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
