import { ANOMALY } from './anomaly-codes.js';
import { addAnomaly, type DecodeContext, emitValue } from './decode-context.js';
import { hasPercentEscape, percentDecode } from './decode-percent.js';

/** The request target split once. */
export interface SplitTarget {
  /** Path as sent, without query (absolute-form targets lose scheme and authority). */
  path: string;
  /** Query string without `?` ('' when absent). */
  query: string;
}

/** Splits a request target into path and query; absolute-form (`http://h/p?q`) is understood. */
export function splitTarget(target: string): SplitTarget {
  let t = target;
  if (t.charCodeAt(0) !== 47 /* / */) {
    const scheme = t.indexOf('://');
    if (scheme > 0 && scheme < 10) {
      const slash = t.indexOf('/', scheme + 3);
      const q = t.indexOf('?', scheme + 3);
      t = slash === -1 || (q !== -1 && q < slash) ? `/${q === -1 ? '' : t.slice(q)}` : t.slice(slash);
    }
  }
  const hash = t.indexOf('#');
  if (hash !== -1) t = t.slice(0, hash);
  const q = t.indexOf('?');
  return q === -1 ? { path: t, query: '' } : { path: t.slice(0, q), query: t.slice(q + 1) };
}

/**
 * The path as the most permissive server would see it: backslashes as separators, percent
 * decoding repeated while escapes remain (bounded by maxDecodeDepth), overlong UTF-8
 * decoded, `;params` dropped, empty and dot segments resolved. Anomalies flag the evasions.
 */
export function normalizePath(ctx: DecodeContext | undefined, raw: string): string {
  const maxRounds = ctx?.limits.maxDecodeDepth ?? 4;
  let s = raw.indexOf('\\') === -1 ? raw : raw.replace(/\\/g, '/');
  let rounds = 0;
  while (rounds < maxRounds && s.indexOf('%') !== -1 && hasPercentEscape(s)) {
    const d = percentDecode(s, { overlong: true });
    if (ctx && d.overlong) addAnomaly(ctx, ANOMALY.pathOverlongUtf8, 'path', 'overlong UTF-8 sequence in the path');
    if (ctx && rounds === 1) addAnomaly(ctx, ANOMALY.pathDoubleEncoded, 'path', 'path is percent-encoded twice');
    s = d.value.indexOf('\\') === -1 ? d.value : d.value.replace(/\\/g, '/');
    rounds++;
  }
  const out: string[] = [];
  let aboveRoot = false;
  for (const part of s.split('/')) {
    const semi = part.indexOf(';');
    const seg = semi === -1 ? part : part.slice(0, semi);
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) aboveRoot = true;
      else out.pop();
      continue;
    }
    out.push(seg);
  }
  if (ctx && aboveRoot) addAnomaly(ctx, ANOMALY.pathAboveRoot, 'path', 'dot segments climb above the root');
  const trailing = out.length > 0 && (s.endsWith('/') || s.endsWith('/.') || s.endsWith('/..'));
  return `/${out.join('/')}${trailing ? '/' : ''}`;
}

/**
 * Emits `path.raw`, `path.normalized` and one `path.N` per raw segment (1-based, each
 * percent-decoded once, nested decodings applied). Returns the normalised path.
 */
export function decodePath(ctx: DecodeContext, raw: string): string {
  emitValue(ctx, 'path.raw', raw, [], false);
  const normalized = normalizePath(ctx, raw);
  emitValue(ctx, 'path.normalized', normalized, normalized === raw ? [] : ['normalize'], false);
  let index = 0;
  let start = raw.charCodeAt(0) === 47 ? 1 : 0;
  while (start <= raw.length && !ctx.stopped) {
    let end = raw.indexOf('/', start);
    if (end === -1) end = raw.length;
    index++;
    if (end > start) {
      const seg = raw.slice(start, end);
      const d = percentDecode(seg, { overlong: true });
      emitValue(ctx, `path.${index}`, d.value, seg === d.value ? [] : ['url']);
    }
    start = end + 1;
  }
  return normalized;
}
