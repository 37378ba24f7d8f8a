import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';

/** Bytes turned into text, and how. */
export interface DecodedText {
  text: string;
  /** Decoding to add to the chain when it was not plain UTF-8 ('latin1', 'utf-16le' …). */
  step: string | undefined;
  /** The bytes claimed (or defaulted) to be UTF-8 but were not: kept as latin1, byte for byte. */
  invalidUtf8: boolean;
  /** The declared charset is not one Node can decode (UTF-8 was used). */
  unsupported: boolean;
}

const decoders = new Map<string, TextDecoder | null>();

function decoderFor(label: string): TextDecoder | null {
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label);
    } catch {
      d = null;
    }
    // Bounded: labels come from requests, so only remember the first few distinct ones.
    if (decoders.size < 64) decoders.set(label, d);
  }
  return d;
}

/** The `charset` parameter of a Content-Type value, lower-cased, or ''. */
export function charsetOf(contentType: string): string {
  const i = contentType.toLowerCase().indexOf('charset=');
  if (i === -1) return '';
  let v = contentType.slice(i + 8).trim();
  const semi = v.indexOf(';');
  if (semi !== -1) v = v.slice(0, semi);
  return v
    .replace(/^["']|["']$/g, '')
    .trim()
    .toLowerCase();
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes body bytes by BOM, then declared charset, else UTF-8. Invalid UTF-8 is never
 * replaced by U+FFFD: each byte becomes one latin1 character so nothing an attacker sent
 * disappears (and the caller flags it).
 */
export function bytesToText(bytes: Uint8Array, charset: string): DecodedText {
  const buf = asBuffer(bytes);
  if (buf.length >= 2) {
    const b0 = buf[0]!;
    const b1 = buf[1]!;
    if (b0 === 0xff && b1 === 0xfe) return viaDecoder(buf.subarray(2), 'utf-16le');
    if (b0 === 0xfe && b1 === 0xff) return viaDecoder(buf.subarray(2), 'utf-16be');
    if (b0 === 0xef && b1 === 0xbb && buf[2] === 0xbf) return utf8(buf.subarray(3));
  }
  switch (charset) {
    case '':
    case 'utf-8':
    case 'utf8':
    case 'us-ascii':
    case 'ascii':
      return utf8(buf);
    case 'iso-8859-1':
    case 'latin1':
    case 'l1':
      return { text: buf.toString('latin1'), step: 'latin1', invalidUtf8: false, unsupported: false };
    case 'utf-16':
      return viaDecoder(buf, 'utf-16le');
    default: {
      const d = decoderFor(charset);
      if (d === null) return { ...utf8(buf), unsupported: true };
      return { text: d.decode(buf), step: d.encoding, invalidUtf8: false, unsupported: false };
    }
  }
}

function utf8(buf: Buffer): DecodedText {
  if (isUtf8(buf)) return { text: buf.toString('utf8'), step: undefined, invalidUtf8: false, unsupported: false };
  return { text: buf.toString('latin1'), step: 'latin1', invalidUtf8: true, unsupported: false };
}

function viaDecoder(buf: Buffer, label: string): DecodedText {
  const d = decoderFor(label);
  if (d === null) return { ...utf8(buf), unsupported: true };
  return { text: d.decode(buf), step: label, invalidUtf8: false, unsupported: false };
}

/**
 * True when decoded bytes read as text a human or a parser would produce: valid UTF-8 and
 * almost no control characters. Used to keep base64/hex guesses from emitting noise.
 */
export function isPlausibleText(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n === 0) return false;
  if (!isUtf8(asBuffer(bytes))) return false;
  let controls = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) controls++;
  }
  // One NUL or control in 32 is tolerated: payloads use them (%00 truncation) but random
  // bytes have far more.
  return controls * 32 <= n;
}

/** True when a string looks like text (few control characters, no U+FFFD). */
export function isPlausibleString(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  let controls = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f || c === 0xfffd) controls++;
  }
  return controls * 32 <= n;
}
