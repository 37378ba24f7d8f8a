/**
 * Shared normalisers for detectors. The decoder already undoes the encodings a request carries
 * (url, base64, json …); these undo what attackers layer *inside* a value to hide keywords
 * from pattern matchers: leftover percent-encoding, HTML entities, JS/CSS/unicode escapes,
 * full-width characters, inline comments and odd whitespace. Every function is pure, linear in
 * the input and returns the input itself when there is nothing to undo (cheap to call).
 */

import { decodeHtmlEntities } from '../decode/decode-escapes.js';

const PERCENT = /%(?:[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})/;

/** Decodes `%XX` (as UTF-8 where valid, else Latin-1) and IIS-style `%uXXXX`; invalid escapes stay. */
export function percentDecode(input: string): string {
  if (!PERCENT.test(input)) return input;
  return input.replace(/(?:%[0-9a-fA-F]{2})+|%u[0-9a-fA-F]{4}/g, (m) => {
    if (m[1] === 'u' || m[1] === 'U') return String.fromCharCode(parseInt(m.slice(2), 16));
    const bytes = Buffer.from(m.replace(/%/g, ''), 'hex');
    const utf8 = bytes.toString('utf8');
    return utf8.includes('\ufffd') ? bytes.toString('latin1') : utf8;
  });
}

/** True when a value still carries percent-escapes (e.g. double encoding). */
export function hasPercentEscapes(input: string): boolean {
  return PERCENT.test(input);
}

/** Decodes `\uXXXX`, `\u{X…}`, `\xXX` and octal `\NNN` escapes (JS, Python, shell `$'…'`). */
export function unicodeEscapeDecode(input: string): string {
  if (!input.includes('\\')) return input;
  return input.replace(
    /\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|([0-3][0-7]{2}))/g,
    (m, b, u, x, o) => {
      const cp = parseInt((b ?? u ?? x) as string, 16) || (o !== undefined ? parseInt(o as string, 8) : NaN);
      return Number.isFinite(cp) && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    },
  );
}

/** Maps full-width ASCII (U+FF01–FF5E) to ASCII; some back ends fold them (best-fit mapping). */
export function foldFullWidth(input: string): string {
  if (!/[\uff01-\uff5e]/.test(input)) return input;
  return input.replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** Replaces every run of whitespace (incl. NBSP, vertical tab, form feed) by one space. */
export function collapseWhitespace(input: string): string {
  return input.replace(/[\s\u00a0\u2000-\u200b\u3000]+/g, ' ');
}

/** Removes C-style `/* … *\/` comments (used to split keywords: `UN/**\/ION`). */
export function stripBlockComments(input: string): string {
  if (!input.includes('/*')) return input;
  return input.replace(/\/\*[\s\S]*?(?:\*\/|$)/g, '');
}

/**
 * The usual "deep" normal form for pattern checks: percent escapes, HTML entities and unicode
 * escapes undone, full-width folded. Returns the input when nothing changed.
 */
export function deepNormalize(input: string): string {
  let out = input;
  for (let round = 0; round < 3; round++) {
    const next = foldFullWidth(unicodeEscapeDecode(decodeHtmlEntities(percentDecode(out))));
    if (next === out) break;
    out = next;
  }
  return out;
}
