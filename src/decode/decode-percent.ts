/** Result of one lenient percent-decoding. */
export interface PercentDecoded {
  value: string;
  /** Some %XX bytes were not valid UTF-8 (they are kept as latin1 characters, byte for byte). */
  invalidUtf8: boolean;
  /** Overlong UTF-8 sequences were found (decoded only when `overlong` was requested). */
  overlong: boolean;
}

export interface PercentOptions {
  /** `+` means space (query strings and forms). */
  plus?: boolean;
  /** Decode overlong UTF-8 (%c0%af → `/`) like legacy servers did; paths only. */
  overlong?: boolean;
}

const HEX: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[65 + i] = 10 + i;
    t[97 + i] = 10 + i;
  }
  return t;
})();

/** Value of one hex digit char code, or -1. */
export function hexValue(code: number): number {
  return code < 128 ? HEX[code]! : -1;
}

/** True when `s` holds at least one `%XX` or `%uXXXX` escape. */
export function hasPercentEscape(s: string): boolean {
  let i = s.indexOf('%');
  while (i !== -1 && i + 2 < s.length) {
    const a = s.charCodeAt(i + 1);
    if ((a === 117 || a === 85) && i + 5 < s.length && isHex4(s, i + 2)) return true;
    if (hexValue(a) >= 0 && hexValue(s.charCodeAt(i + 2)) >= 0) return true;
    i = s.indexOf('%', i + 1);
  }
  return false;
}

function isHex4(s: string, at: number): boolean {
  for (let k = 0; k < 4; k++) if (hexValue(s.charCodeAt(at + k)) < 0) return false;
  return true;
}

/**
 * Percent-decodes like a forgiving server: invalid escapes stay literal, `%uXXXX` (IIS) is
 * understood, invalid UTF-8 bytes are kept as latin1 characters and flagged. Never throws.
 */
export function percentDecode(s: string, options: PercentOptions = {}): PercentDecoded {
  const plus = options.plus === true && s.indexOf('+') !== -1;
  if (s.indexOf('%') === -1) {
    return { value: plus ? s.replace(/\+/g, ' ') : s, invalidUtf8: false, overlong: false };
  }
  const input = plus ? s.replace(/\+/g, ' ') : s;
  try {
    // The native decoder is the fast path for well-formed input; it throws on anything odd.
    return { value: decodeURIComponent(input), invalidUtf8: false, overlong: false };
  } catch {
    return slowDecode(input, options.overlong === true);
  }
}

function slowDecode(s: string, allowOverlong: boolean): PercentDecoded {
  let out = '';
  let invalidUtf8 = false;
  let overlong = false;
  const bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length === 0) return;
    const r = utf8Lenient(bytes, allowOverlong);
    out += r.text;
    invalidUtf8 ||= r.invalid;
    overlong ||= r.overlong;
    bytes.length = 0;
  };
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < n) {
      const a = s.charCodeAt(i + 1);
      if ((a === 117 || a === 85) && i + 5 < n && isHex4(s, i + 2)) {
        flush();
        out += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      const h = hexValue(a);
      const l = hexValue(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 3;
        continue;
      }
    }
    flush();
    out += s[i];
    i++;
  }
  flush();
  return { value: out, invalidUtf8, overlong };
}

/**
 * Decodes UTF-8 bytes without ever failing. Overlong forms are decoded to their code point
 * when allowed (what vulnerable servers did), else kept as latin1 like any invalid byte.
 */
export function utf8Lenient(
  bytes: ArrayLike<number>,
  allowOverlong: boolean,
): { text: string; invalid: boolean; overlong: boolean } {
  let text = '';
  let invalid = false;
  let overlong = false;
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      text += String.fromCharCode(b);
      i++;
      continue;
    }
    let need = 0;
    let cp = 0;
    let min = 0;
    if ((b & 0xe0) === 0xc0) {
      need = 1;
      cp = b & 0x1f;
      min = 0x80;
    } else if ((b & 0xf0) === 0xe0) {
      need = 2;
      cp = b & 0x0f;
      min = 0x800;
    } else if ((b & 0xf8) === 0xf0) {
      need = 3;
      cp = b & 0x07;
      min = 0x10000;
    }
    let ok = need > 0 && i + need < n;
    for (let k = 1; ok && k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    if (ok && cp < min) {
      overlong = true;
      ok = allowOverlong;
    }
    if (ok && (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (ok) {
      text += String.fromCodePoint(cp);
      i += need + 1;
    } else {
      invalid = true;
      text += String.fromCharCode(b);
      i++;
    }
  }
  return { text, invalid, overlong };
}
