import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import { hitCollector, percentDecodeDeep, type Rule } from './detect-kit.js';

/*
 * LDAP filter injection. An injected value closes the assertion it was placed in — it has
 * a `)` that no `(` of its own opened — and then starts a new filter component: an operator
 * `(&`, `(|`, `(!` or an attribute assertion `(uid=*`. A complete, balanced filter sent as a
 * value (an LDAP search UI) or parentheses in prose and formulas never break out.
 */

const R = {
  breakout: { id: 'ST-LDAP-001', attackType: 'ldap_injection', severity: 'high' },
  wildcard: { id: 'ST-LDAP-002', attackType: 'ldap_injection', severity: 'medium' },
} satisfies Record<string, Rule>;

/** What may follow the breakout: an operator or an attribute assertion. */
const COMPONENT =
  /^\s*[&|!]?\s*(?:\(\s*)+(?:[&|!]|[A-Za-z][\w.;-]{0,60}\s*(?:[~<>]?=|:[\w.:]*:?=))|^\s*[&|!]\s*\(|^\s*\(\s*[&|!]?\s*\)?\s*$/;

/** Index of the first `)` that closes nothing, or -1. */
function breakoutAt(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth < 0) return i;
    }
  }
  return -1;
}

/** LDAP injection detector. */
export const ldapDetector: Detector = {
  id: 'ldap_injection',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const raw = point.value;
    // Cheap pre-filter: a breakout needs ')' and '(' (or a trailing operator).
    if (raw.length < 3 || (!raw.includes(')') && !/%29/i.test(raw))) return [];
    const v = raw.length > 4096 ? raw.slice(0, 4096) : raw;
    const s = v.includes('%') ? percentDecodeDeep(v, 2).value : v;
    const c = hitCollector(ctx);
    let at = breakoutAt(s);
    let guard = 0;
    while (at >= 0 && guard++ < 8) {
      const rest = s.slice(at + 1);
      if (COMPONENT.test(rest)) {
        const wild = /\*/.test(s);
        c.add(
          R.breakout,
          wild ? 0.9 : 0.85,
          s.slice(Math.max(0, at - 20), at + 40),
          'value closes an LDAP filter and opens a new component',
        );
        break;
      }
      const next = breakoutAt(rest);
      at = next < 0 ? -1 : at + 1 + next;
    }
    if (c.hits.length === 0 && /^\*\)+\s*(?:[(!]|\u0000|$)|\(\s*[|&]\s*\(\s*\w+=\*\s*\)\s*\)/.test(s)) {
      c.add(R.wildcard, 0.7, s.slice(0, 80), 'wildcard filter fragment');
    }
    return c.hits;
  },
};
