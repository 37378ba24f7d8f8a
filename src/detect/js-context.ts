import { performance } from 'node:perf_hooks';

/**
 * A small JavaScript lexer and the checks that tell script from prose: does the value, placed
 * as-is in a script, or inside a '…', "…" or `…` string, break out and reach a *sink* (code
 * execution, navigation, cookie theft, network)? Used by the XSS detector for event-handler
 * bodies, `javascript:` URLs and values reflected into scripts.
 */

export type JsTokenType = 'id' | 'str' | 'num' | 'punc' | 'tpl' | 'regex';

export interface JsToken {
  type: JsTokenType;
  text: string;
  pos: number;
  /** Strings and templates: closing quote found. */
  closed?: boolean;
}

const ID_START = /[A-Za-z_$\u00c0-\uffff]/;
const ID_PART = /[A-Za-z0-9_$\u00c0-\uffff]/;
const CLOCK_EVERY = 4096;

/** Lexes JavaScript loosely (no ASI, regex literals only after an operator). Linear, bounded. */
export function lexJs(input: string, deadline = Infinity, maxTokens = 4096): JsToken[] {
  const out: JsToken[] = [];
  const n = input.length;
  let i = 0;
  let nextClock = CLOCK_EVERY;
  while (i < n && out.length < maxTokens) {
    if (i >= nextClock) {
      nextClock = i + CLOCK_EVERY;
      if (performance.now() > deadline) break;
    }
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\u00a0' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    const start = i;
    if (c === '/' && input[i + 1] === '/') {
      const e = input.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
      continue;
    }
    if (c === '/' && input[i + 1] === '*') {
      const e = input.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === '<' && input.startsWith('<!--', i)) {
      // HTML-like comments are line comments in browsers' JavaScript.
      const e = input.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let closed = false;
      while (j < n) {
        const d = input[j];
        if (d === '\\') {
          j += 2;
          continue;
        }
        if (d === c) {
          closed = true;
          j++;
          break;
        }
        if (c !== '`' && d === '\n') break;
        j++;
      }
      out.push({ type: c === '`' ? 'tpl' : 'str', text: input.slice(start, j), pos: start, closed });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(input[i + 1] ?? ''))) {
      i++;
      while (i < n && /[0-9a-fA-FxXoObBeE._n]/.test(input[i]!)) i++;
      out.push({ type: 'num', text: input.slice(start, i), pos: start });
      continue;
    }
    if (ID_START.test(c) || (c === '\\' && input[i + 1] === 'u')) {
      while (i < n && (ID_PART.test(input[i]!) || (input[i] === '\\' && input[i + 1] === 'u')))
        i += input[i] === '\\' ? 2 : 1;
      out.push({ type: 'id', text: input.slice(start, i), pos: start });
      continue;
    }
    if (c === '/') {
      const prev = out[out.length - 1];
      const regexAllowed = !prev || (prev.type === 'punc' && !/[)\]}]/.test(prev.text));
      if (regexAllowed) {
        let j = i + 1;
        while (j < n && input[j] !== '/' && input[j] !== '\n') j += input[j] === '\\' ? 2 : 1;
        if (input[j] === '/') {
          j++;
          while (j < n && /[a-z]/.test(input[j]!)) j++;
          out.push({ type: 'regex', text: input.slice(start, j), pos: start });
          i = j;
          continue;
        }
      }
    }
    const three = input.slice(i, i + 3);
    const two = input.slice(i, i + 2);
    const op = ['===', '!==', '**=', '...', '>>>', '?.('].includes(three)
      ? three
      : ['=>', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '+=', '-=', '++', '--', '<<', '>>'].includes(two)
        ? two
        : c;
    i += op.length;
    out.push({ type: 'punc', text: op, pos: start });
  }
  return out;
}

/** Functions whose call runs code, shows the classic proof dialog, navigates or sends data. */
export const CALL_SINKS: ReadonlySet<string> = new Set([
  'alert',
  'prompt',
  'confirm',
  'print',
  'eval',
  'Function',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'execScript',
  'import',
  'fetch',
  'XMLHttpRequest',
  'atob',
  'unescape',
  'decodeURI',
  'decodeURIComponent',
  'fromCharCode',
  'write',
  'writeln',
  'insertAdjacentHTML',
  'createElement',
  'appendChild',
  'sendBeacon',
  'getScript',
  'globalEval',
  'constructor',
  'open',
  'assign',
  'replace',
  'postMessage',
  'showModalDialog',
  'Image',
  'WebSocket',
  'Worker',
  'importScripts',
  'createContextualFragment',
  'parseFromString',
  'setAttribute',
]);
/** Sinks strong enough to count even without other breakout evidence. */
const STRONG_CALLS: ReadonlySet<string> = new Set([
  'alert',
  'prompt',
  'confirm',
  'eval',
  'Function',
  'execScript',
  'globalEval',
  'constructor',
  'fromCharCode',
  'atob',
  'import',
]);
/** Property or global assignments that navigate, steal or inject. */
const ASSIGN_SINKS: ReadonlySet<string> = new Set([
  'location',
  'href',
  'cookie',
  'innerHTML',
  'outerHTML',
  'src',
  'srcdoc',
  'onerror',
  'onload',
  'action',
  'formAction',
  'domain',
]);
/** Globals whose dotted properties are the usual exfiltration sources. */
const SOURCES =
  /^(?:document\.(?:cookie|domain|location|write|body|forms|referrer|URL)|window\.(?:location|name|origin)|localStorage|sessionStorage|top\.location|parent\.location|self\.location)/;

/** Names `findSinks` reacts to: `window`… for bracket access and sources, `new` for constructors. */
const SINK_NAMES = [
  ...CALL_SINKS,
  ...ASSIGN_SINKS,
  'new',
  'window',
  'top',
  'self',
  'parent',
  'frames',
  'globalThis',
  'this',
  'document',
];
const SINK_WORD = new RegExp(SINK_NAMES.join('|'));

/**
 * Can `findSinks` find anything in tokens lexed from `text`? Every finding starts at an
 * identifier named in SINK_NAMES (`[].constructor` included), and identifiers are slices of the
 * input: text that contains none of the names as a substring has no sink, and need not be lexed.
 */
export function mayReachSink(text: string): boolean {
  return SINK_WORD.test(text);
}

export interface JsFinding {
  /** 0..1 */
  confidence: number;
  from: number;
  to: number;
  what: string;
}

/**
 * Looks for sink use in a token list: calls (`alert(1)`, `` alert`1` ``, `alert?.(1)`,
 * `(alert)(1)`, `window['al'+'ert'](1)`), sink assignments (`location=…`,
 * `document.cookie=…`), and reads of the usual exfiltration sources.
 */
export function findSinks(toks: JsToken[], from = 0): JsFinding[] {
  const out: JsFinding[] = [];
  for (let i = from; i < toks.length; i++) {
    const t = toks[i]!;
    const next = toks[i + 1];
    const prev = toks[i - 1];
    if (t.type === 'id') {
      const name = t.text;
      const calls =
        next &&
        ((next.type === 'punc' && (next.text === '(' || next.text === '?.(')) ||
          next.type === 'tpl' ||
          (next.type === 'punc' && next.text === ')' && toks[i + 2]?.text === '(' && prev?.text === '('));
      if (CALL_SINKS.has(name) && calls) {
        const strong = STRONG_CALLS.has(name) || (name === 'write' && prev?.text === '.');
        let close = i + 1;
        while (close < toks.length && close < i + 24 && toks[close]!.text !== ')') close++;
        const endTok = toks[Math.min(close, toks.length - 1)]!;
        out.push({
          confidence: strong ? 0.9 : 0.7,
          from: t.pos,
          to: endTok.pos + endTok.text.length,
          what: `${name}()`,
        });
      } else if (
        name === 'new' &&
        next?.type === 'id' &&
        (next.text === 'Function' || next.text === 'Image' || next.text === 'XMLHttpRequest' || next.text === 'Worker')
      ) {
        out.push({ confidence: 0.8, from: t.pos, to: next.pos + next.text.length, what: `new ${next.text}` });
      } else if (
        ASSIGN_SINKS.has(name) &&
        next?.type === 'punc' &&
        (next.text === '=' || next.text === '+=') &&
        (prev?.text === '.' || name === 'location')
      ) {
        out.push({
          confidence:
            name === 'location' || name === 'cookie' || name === 'innerHTML' || name === 'outerHTML' ? 0.85 : 0.6,
          from: t.pos,
          to: next.pos + 1,
          what: `${name}=`,
        });
      } else if (
        /^(?:window|top|self|parent|frames|globalThis|this|document)$/.test(name) &&
        next?.text === '[' &&
        (toks[i + 2]?.type === 'str' || toks[i + 2]?.type === 'regex')
      ) {
        // window['al'+'ert'](1), top[/al/.source+/ert/.source](1)
        out.push({ confidence: 0.8, from: t.pos, to: toks[i + 2]!.pos + 1, what: `${name}[…]` });
      } else if (
        (name === 'document' || name === 'window' || name === 'top' || name === 'parent' || name === 'self') &&
        next?.text === '.' &&
        toks[i + 2]?.type === 'id'
      ) {
        const dotted = `${name}.${toks[i + 2]!.text}`;
        if (SOURCES.test(dotted))
          out.push({ confidence: 0.6, from: t.pos, to: toks[i + 2]!.pos + toks[i + 2]!.text.length, what: dotted });
      }
    } else if (
      t.type === 'punc' &&
      t.text === '[' &&
      next?.type === 'punc' &&
      next.text === ']' &&
      toks[i + 2]?.text === '.' &&
      toks[i + 3]?.text === 'constructor'
    ) {
      out.push({ confidence: 0.9, from: t.pos, to: toks[i + 3]!.pos + 11, what: '[].constructor' });
    }
  }
  return out;
}

export type JsQuoteContext = 'none' | "'" | '"' | '`';

/**
 * Scores `value` as an injection into a script: in each context it may land in (as-is, or inside
 * a quoted string / template literal it must first close), does it reach a sink right after
 * breaking out? Returns the best finding per context, with the context named.
 */
export function jsInjection(value: string, deadline = Infinity): Array<JsFinding & { context: JsQuoteContext }> {
  const out: Array<JsFinding & { context: JsQuoteContext }> = [];
  // Every finding below comes from `findSinks` over a slice of `value` (after a quote).
  if (!mayReachSink(value)) return out;
  for (const q of ["'", '"', '`'] as const) {
    if (!value.includes(q)) continue;
    const toks = lexJs(q + value, deadline);
    const first = toks[0];
    if (!first || !first.closed) continue;
    // After the closing quote: an operator or statement end must follow (`'-alert(1)-'`, `";alert(1)//`).
    const next = toks[1];
    if (
      !next ||
      next.type !== 'punc' ||
      !/^(?:[-+*/%;,|&^)}\]?:<>]|\|\||&&|\?\?|==|!=|===|!==|<=|>=|<<|>>)$/.test(next.text)
    )
      continue;
    const sinks = findSinks(toks, 2).filter((s) => s.confidence >= 0.7);
    const best = sinks.sort((a, b) => b.confidence - a.confidence)[0];
    if (best)
      out.push({
        ...best,
        confidence: Math.min(1, best.confidence + 0.05),
        from: Math.max(0, best.from - 1),
        to: best.to - 1,
        context: q,
      });
  }
  // Template literal interpolation: `${alert(1)}`.
  const tpl = value.indexOf('${');
  if (tpl >= 0) {
    const inner = lexJs(value.slice(tpl + 2), deadline, 256);
    const best = findSinks(inner).sort((a, b) => b.confidence - a.confidence)[0];
    if (best && best.confidence >= 0.7)
      out.push({ ...best, confidence: 0.8, from: tpl, to: tpl + 2 + best.to, context: '`' });
  }
  return out;
}
