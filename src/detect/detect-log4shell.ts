import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import { hitCollector, percentDecodeOnce, type Rule } from './detect-kit.js';
import { decodeHtmlEntities } from '../decode/decode-escapes.js';
import { unicodeEscapeDecode } from './normalize.js';

/*
 * Log4Shell (CVE-2021-44228) and Log4j lookups. Rather than matching `jndi` spelled in a
 * hundred ways, this evaluates the value the way Log4j's StrSubstitutor would: innermost
 * `${…}` first, `${lower:x}`/`${upper:x}`/`${date:'x'}` computed, `${anything:-default}`
 * resolved to its default (unknown variables), unknown lookups left literal, and the result
 * re-substituted until stable. A value is Log4Shell when some lookup *resolves* to `jndi:…`.
 */

const R = {
  jndi: { id: 'ST-L4J-001', attackType: 'log4shell', severity: 'critical' },
  lookup: { id: 'ST-L4J-002', attackType: 'log4shell', severity: 'medium' },
} satisfies Record<string, Rule>;

/** Lookups that read data (exfiltration through a JNDI/DNS name) or exist only in Log4j. */
const INFO_LOOKUPS = new Set([
  'env',
  'sys',
  'java',
  'ctx',
  'main',
  'map',
  'bundle',
  'k8s',
  'docker',
  'spring',
  'web',
  'log4j',
  'jvmrunargs',
  'marker',
  'event',
  'sd',
  'hostname',
  'base64',
  'upper',
  'lower',
  'date',
]);

const MAX_DEPTH = 32;
const MAX_PASSES = 4;
const MAX_LEN = 16384;

interface EvalState {
  jndi: string[];
  lookups: Set<string>;
  steps: number;
  deadline: number;
}

/** Undoes the encodings seen in the wild around `${`: percent, `\uXXXX`, `\xXX`, HTML references. */
export function unmaskLookups(value: string): string {
  let cur = value;
  for (let i = 0; i < 4; i++) {
    let next = percentDecodeOnce(cur);
    next = unicodeEscapeDecode(next);
    // `&lbrace`/`&rbrace` (HTML5 names) and the `;`-less forms Log4Shell payloads used.
    next = decodeHtmlEntities(
      next.replace(/&(?:(lbrace|lcub)|(rbrace|rcub)|(dollar));?/gi, (_m, l, r) =>
        l ? '&lcub;' : r ? '&rcub;' : '&dollar;',
      ),
    );
    if (next === cur) break;
    cur = next;
  }
  return cur;
}

/** Index of the `}` closing the `${` whose content starts at `from`, or -1. */
function closing(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
    } else if (s[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function substitute(s: string, depth: number, st: EvalState): string {
  if (depth > MAX_DEPTH || st.steps > 4096) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf('${', i);
    if (open < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, open);
    const close = closing(s, open + 2);
    if (close < 0) {
      out += s.slice(open);
      break;
    }
    st.steps++;
    if ((st.steps & 63) === 0 && performance.now() > st.deadline) return out + s.slice(open);
    const name = substitute(s.slice(open + 2, close), depth + 1, st);
    out += resolve(name, st);
    i = close + 1;
  }
  return out;
}

function resolve(name: string, st: EvalState): string {
  const colon = name.indexOf(':');
  const prefix = (colon >= 0 ? name.slice(0, colon) : name).trim().toLowerCase();
  const rest = colon >= 0 ? name.slice(colon + 1) : '';
  if (prefix === 'jndi') {
    st.jndi.push(rest);
    return `\u0000jndi:${rest}\u0000`;
  }
  const dflt = name.indexOf(':-');
  if (INFO_LOOKUPS.has(prefix)) st.lookups.add(prefix);
  if (dflt >= 0) return name.slice(dflt + 2);
  if (prefix === 'lower') return rest.toLowerCase();
  if (prefix === 'upper') return rest.toUpperCase();
  if (prefix === 'date') return rest.replace(/'/g, '');
  if (INFO_LOOKUPS.has(prefix)) return 'x';
  // Unknown variables stay literal, as Log4j leaves them.
  return `\${${name}}`;
}

/** Evaluates Log4j lookups in `value`; returns the JNDI targets and data lookups found. */
export function evaluateLookups(
  value: string,
  deadline = Infinity,
): { jndi: string[]; lookups: string[]; result: string } {
  const st: EvalState = { jndi: [], lookups: new Set(), steps: 0, deadline };
  // `$${` is Log4j's escape for a literal `${`; attackers use it to rebuild `${` on a later pass.
  let cur = value.replace(/\$\$\{/g, '${');
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const next = substitute(cur, 0, st);
    if (next === cur || st.jndi.length > 0 || !next.includes('${')) {
      cur = next;
      break;
    }
    cur = next;
  }
  return { jndi: st.jndi, lookups: [...st.lookups], result: cur };
}

/** Log4Shell / Log4j lookup detector. */
export const log4shellDetector: Detector = {
  id: 'log4shell',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const v = point.value;
    // Cheap pre-filter: a lookup needs a '$' in some spelling.
    if (v.length < 6 || !/\$|%24|%26|&#|\\u00|\\x24|&dollar/i.test(v)) return [];
    const c = hitCollector(ctx);
    const text = unmaskLookups(v.length > MAX_LEN ? v.slice(0, MAX_LEN) : v);
    if (!text.includes('${')) return [];
    const { jndi, lookups } = evaluateLookups(text, ctx.deadline);
    if (jndi.length > 0) {
      const target = jndi[0]!;
      const plain = /\$\{jndi:/i.test(text) && text === v;
      c.add(R.jndi, 0.97, v, `lookup resolves to jndi:${target.slice(0, 80)}${plain ? '' : ' (obfuscated)'}`);
    } else if (lookups.length > 0) {
      const nested = /\$\{[^}]*\$\{/.test(text);
      c.add(R.lookup, nested ? 0.8 : 0.65, v, `Log4j lookup \${${lookups[0]}:…}${nested ? ' nested' : ''}`);
    }
    return c.hits;
  },
};
