import type { Detector, Hit } from '../core/model.js';
import { selectHits } from './detect-util.js';
import { hasPercentEscapes, percentDecode } from './normalize.js';
import { analyzeSql } from './sql-fingerprint.js';

/** Values with none of these characters or words cannot carry SQL injection worth reporting. */
const SQL_HINT =
  /['"`;()=<>|&@#\-/*]|\b(?:union|select|sleep|waitfor|exec|xp_|drop|insert|delete|update|having|order|group|into|benchmark|or|and)\b/i;

/**
 * SQL injection: lexes each value in the as-is, single-quote and double-quote contexts and
 * matches the token sequence against the injection grammar (see sql-fingerprint.ts).
 * Values that still carry percent-escapes (double encoding) are also checked decoded.
 */
export const sqliDetector: Detector = {
  id: 'sqli',
  inspectPoint(point, ctx) {
    const value = point.value;
    if (value.length < 2 || !SQL_HINT.test(value)) return [];
    const hits: Hit[] = analyzeSql(value, ctx.deadline).hits;
    if (hasPercentEscapes(value)) {
      const decoded = percentDecode(value);
      if (decoded !== value) hits.push(...analyzeSql(decoded, ctx.deadline).hits);
    }
    return selectHits(hits, ctx.sensitivity, point.location);
  },
};
