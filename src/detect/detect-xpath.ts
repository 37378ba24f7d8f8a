import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import { hitCollector, type Rule } from './detect-kit.js';

/*
 * XPath injection: a value that leaves the string literal it was placed in (a quote, maybe a
 * `]`) and continues as XPath — a boolean (`or '1'='1`), a union (`| //*`), or XPath-only
 * syntax (axes `child::`, node tests `node()`, functions `string-length(`, `name(/*[1])`).
 * XPath syntax alone, without the breakout, is what an XML tool UI sends and scores low.
 */

const R = {
  breakout: { id: 'ST-XPATH-001', attackType: 'xpath_injection', severity: 'high' },
  syntax: { id: 'ST-XPATH-002', attackType: 'xpath_injection', severity: 'medium' },
} satisfies Record<string, Rule>;

const XPATH_ONLY =
  /\b(?:child|descendant(?:-or-self)?|ancestor(?:-or-self)?|parent|following(?:-sibling)?|preceding(?:-sibling)?|self|attribute|namespace)::|\b(?:node|text|comment|processing-instruction)\(\s*\)|\b(?:count|name|local-name|namespace-uri|string-length|substring(?:-before|-after)?|starts-with|normalize-space|translate|doc|document|position|last|boolean|string|number)\s*\(\s*(?:\/|\.|@|name\(|\*|\/\/|'|"|\)|\d)|\/\/\*|\/\/[A-Za-z_][\w-]*\s*[[/]|\/\*\[\d+\]|\[\s*position\s*\(\s*\)\s*=|@\*/;

/** Quote (and optional predicate close) then or/and/union. */
const BREAKOUT =
  /^\s*\d+\s*\)?\s+(?:or|and)\s|['"]\s*[\])]?\s*(?:\b(?:or|and)\b\s*(?:['"\d(]|not\s*\(|[a-z-]+\s*\()|\|\s*(?:\/|\.|\w+\s*\()|\]\s*\|)/i;

/** XPath injection detector. */
export const xpathDetector: Detector = {
  id: 'xpath_injection',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const raw = point.value;
    // Cheap pre-filter: every XPath rule needs '/', '(', '|', '::' or '@*' plus a quote or axis.
    if (raw.length < 5 || !/[/(|:@]/.test(raw)) return [];
    const v = raw.length > 8192 ? raw.slice(0, 8192) : raw;
    const c = hitCollector(ctx);
    const syntax = XPATH_ONLY.exec(v);
    const brk = BREAKOUT.exec(v);
    if (syntax && brk) {
      c.add(
        R.breakout,
        0.9,
        v.slice(Math.max(0, brk.index - 10), brk.index + 80),
        `string breakout into XPath ${syntax[0].trim()}`,
      );
    } else if (syntax) {
      const strong = /::|\(\s*\)|\/\/\*|\/\*\[\d+\]/.test(syntax[0]);
      c.add(R.syntax, strong ? 0.6 : 0.4, syntax[0], `XPath syntax ${syntax[0].trim()}`);
    }
    return c.hits;
  },
};
