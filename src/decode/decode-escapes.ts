import { hexValue } from './decode-percent.js';

/**
 * Named character references that matter for evasion (HTML5 names used to hide `javascript:`
 * and tag syntax) plus the XML ones. Unknown names stay literal.
 */
const NAMED = new Map<string, string>(
  Object.entries({
    lt: '<',
    gt: '>',
    amp: '&',
    quot: '"',
    apos: "'",
    nbsp: '\u00a0',
    colon: ':',
    semi: ';',
    comma: ',',
    period: '.',
    sol: '/',
    bsol: '\\',
    lpar: '(',
    rpar: ')',
    lsqb: '[',
    rsqb: ']',
    lbrack: '[',
    rbrack: ']',
    lcub: '{',
    rcub: '}',
    lbrace: '{',
    rbrace: '}',
    excl: '!',
    num: '#',
    dollar: '$',
    percnt: '%',
    plus: '+',
    equals: '=',
    quest: '?',
    commat: '@',
    lowbar: '_',
    grave: '`',
    verbar: '|',
    vert: '|',
    ast: '*',
    Hat: '^',
    // HTML5 maps these to U+2010; folded to the ASCII hyphen, the character they stand in for
    // in an evasion (`&dash;&dash;` for an SQL comment).
    hyphen: '-',
    dash: '-',
    Tab: '\t',
    NewLine: '\n',
    newline: '\n',
    tab: '\t',
  }),
);

/**
 * Offset of a `;` among the next `max` characters from `from`, or -1. Bounded on purpose:
 * an unbounded indexOf per `&` is quadratic on `&a&a&a…`.
 */
function semicolonWithin(s: string, from: number, max: number): number {
  const end = Math.min(s.length, from + max);
  for (let k = from; k < end; k++) if (s.charCodeAt(k) === 59) return k;
  return -1;
}

/** True when `s` contains something that looks like a character reference. */
export function hasHtmlEntity(s: string): boolean {
  let i = s.indexOf('&');
  while (i !== -1) {
    const c = s.charCodeAt(i + 1);
    if (c === 35 /* # */) return true;
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      if (semicolonWithin(s, i + 2, 9) !== -1) return true;
    }
    i = s.indexOf('&', i + 1);
  }
  return false;
}

/**
 * Decodes HTML/XML character references like a browser does: named (common set), decimal
 * and hex, with or without the final `;` for numeric ones, leading zeros allowed.
 */
export function decodeHtmlEntities(s: string): string {
  let out = '';
  let last = 0;
  let i = s.indexOf('&');
  while (i !== -1) {
    let j = i + 1;
    let decoded: string | undefined;
    if (s.charCodeAt(j) === 35 /* # */) {
      j++;
      const hex = s.charCodeAt(j) === 120 || s.charCodeAt(j) === 88;
      if (hex) j++;
      // Leading zeros are allowed in any number (browsers accept them: an evasion) and do
      // not count towards the digit cap.
      const digitsFrom = j;
      while (s.charCodeAt(j) === 48 /* 0 */) j++;
      const start = j;
      let cp = 0;
      while (j < s.length && j - start < 16) {
        const c = s.charCodeAt(j);
        const d = hex ? hexValue(c) : c >= 48 && c <= 57 ? c - 48 : -1;
        if (d < 0) break;
        cp = cp * (hex ? 16 : 10) + d;
        j++;
      }
      if (j > digitsFrom) {
        decoded = cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
        if (s.charCodeAt(j) === 59 /* ; */) j++;
      }
    } else {
      const semi = semicolonWithin(s, j, 9);
      if (semi !== -1) {
        const name = s.slice(j, semi);
        const v = NAMED.get(name) ?? NAMED.get(name.toLowerCase());
        if (v !== undefined) {
          decoded = v;
          j = semi + 1;
        }
      }
    }
    if (decoded !== undefined) {
      out += s.slice(last, i) + decoded;
      last = j;
    }
    i = s.indexOf('&', Math.max(j, i + 1));
  }
  return last === 0 ? s : out + s.slice(last);
}

/** True when `s` contains a JS/JSON escape worth decoding (`\u0027`, `\x27`, `\u{27}`). */
export function hasJsEscape(s: string): boolean {
  let i = s.indexOf('\\');
  while (i !== -1) {
    const c = s.charCodeAt(i + 1);
    if (c === 117 /* u */) {
      if (
        s.charCodeAt(i + 2) === 123 /* { */ ||
        (hexValue(s.charCodeAt(i + 2)) >= 0 && hexValue(s.charCodeAt(i + 5)) >= 0)
      ) {
        return true;
      }
    } else if (c === 120 /* x */ && hexValue(s.charCodeAt(i + 2)) >= 0 && hexValue(s.charCodeAt(i + 3)) >= 0) {
      return true;
    }
    i = s.indexOf('\\', i + 2);
  }
  return false;
}

const SIMPLE = new Map<string, string>(
  Object.entries({
    n: '\n',
    r: '\r',
    t: '\t',
    b: '\b',
    f: '\f',
    v: '\v',
    '0': '\0',
    "'": "'",
    '"': '"',
    '\\': '\\',
    '/': '/',
    '`': '`',
  }),
);

function hexRun(s: string, at: number, len: number): number {
  let v = 0;
  for (let k = 0; k < len; k++) {
    const d = hexValue(s.charCodeAt(at + k));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Decodes JavaScript string escapes (`\uXXXX`, `\u{X…}`, `\xXX`, `\n`, `\'` …); bad ones stay literal. */
export function decodeJsEscapes(s: string): string {
  let out = '';
  let last = 0;
  let i = s.indexOf('\\');
  while (i !== -1 && i + 1 < s.length) {
    const c = s[i + 1]!;
    let decoded: string | undefined;
    let end = i + 2;
    if (c === 'u') {
      if (s.charCodeAt(i + 2) === 123) {
        // At most 6 hex digits: look for `}` only that far (an unbounded search is quadratic).
        let close = -1;
        for (let k = i + 3; k < Math.min(s.length, i + 10); k++) {
          if (s.charCodeAt(k) === 125) {
            close = k;
            break;
          }
        }
        const cp = close !== -1 ? hexRun(s, i + 3, close - i - 3) : -1;
        if (cp >= 0 && cp <= 0x10ffff) {
          decoded = String.fromCodePoint(cp);
          end = close + 1;
        }
      } else {
        const cu = hexRun(s, i + 2, 4);
        if (cu >= 0) {
          decoded = String.fromCharCode(cu);
          end = i + 6;
        }
      }
    } else if (c === 'x') {
      const b = hexRun(s, i + 2, 2);
      if (b >= 0) {
        decoded = String.fromCharCode(b);
        end = i + 4;
      }
    } else {
      decoded = SIMPLE.get(c);
    }
    if (decoded !== undefined) {
      out += s.slice(last, i) + decoded;
      last = end;
    }
    i = s.indexOf('\\', decoded !== undefined ? end : i + 2);
  }
  return last === 0 ? s : out + s.slice(last);
}
