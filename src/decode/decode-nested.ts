import { ANOMALY } from './anomaly-codes.js';
import { isPlausibleText } from './decode-charset.js';
import { addAnomaly, type DecodeContext, emitValue } from './decode-context.js';
import { decodeHtmlEntities, decodeJsEscapes, hasHtmlEntity, hasJsEscape } from './decode-escapes.js';
import { isJsonContainer, walkJson } from './decode-json.js';
import { hasPercentEscape, hexValue, percentDecode } from './decode-percent.js';
import { walkForm } from './decode-query.js';
import { looksLikeXmlDocument, walkXml } from './decode-xml.js';

/*
 * Nested decoding: each value is tried against cheap signatures first (one pass over its
 * characters), and only the decoders whose signature matched run. Every decoding that
 * changes the text becomes an extra point at the same location with the chain extended;
 * containers found inside a value (JSON, a URL's query, a JWT) become child locations.
 * Base64 and hex are guesses, so their output must read as text or structured data.
 */

/** Shortest base64 / hex text worth a guess (shorter ones decode to noise or nothing). */
const MIN_GUESS_CHARS = 8;

interface Signature {
  percent: boolean;
  amp: boolean;
  backslash: boolean;
  base64: boolean;
  base64url: boolean;
  hex: boolean;
  /** Hex made of decimal digits only: far more often a number than an encoding. */
  digitsOnly: boolean;
}

function scan(v: string): Signature {
  let percent = false;
  let amp = false;
  let backslash = false;
  let b64 = v.length >= MIN_GUESS_CHARS;
  let urlSafe = false;
  let hex = b64 && v.length % 2 === 0;
  let hexLetter = false;
  let pad = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 37) percent = true;
    else if (c === 38) amp = true;
    else if (c === 92) backslash = true;
    if (b64) {
      if (c === 61 /* = */) {
        pad++;
      } else if (pad > 0) {
        b64 = false;
      } else if (c === 45 || c === 95) {
        urlSafe = true;
      } else if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47)) {
        b64 = false;
      }
    }
    if (hex) {
      const h = hexValue(c);
      if (h < 0) hex = false;
      else if (h > 9) hexLetter = true;
    }
  }
  if (pad > 2 || v.length % 4 === 1) b64 = false;
  return {
    percent,
    amp,
    backslash,
    base64: b64 && !urlSafe,
    base64url: b64 && urlSafe,
    hex,
    digitsOnly: hex && !hexLetter,
  };
}

function looksStructured(v: string): boolean {
  const a = v.charCodeAt(0);
  return (a === 123 || a === 91) && isJsonContainer(v);
}

/** Scheme://…?query or /path?query: a URL carried inside a parameter (SSRF, open redirect). */
function embeddedQuery(v: string): string | undefined {
  const q = v.indexOf('?');
  if (q === -1 || q === v.length - 1) return undefined;
  const a = v.charCodeAt(0);
  if (a === 47 /* / */ || /^[a-zA-Z][a-zA-Z0-9+.-]{0,15}:\/\//.test(v.slice(0, Math.min(q, 24)))) {
    const hash = v.indexOf('#', q);
    return v.slice(q + 1, hash === -1 ? undefined : hash);
  }
  return undefined;
}

const JWT = /^eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*$/;

/** Fewest decoded bytes a base64/hex guess must give (4 random bytes pass as text too often). */
const MIN_GUESS_BYTES = 5;

/** Share of printable ASCII a guess must reach: random tokens decode to scattered multi-byte text. */
function mostlyAscii(bytes: Uint8Array): boolean {
  let ascii = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) ascii++;
  }
  return ascii * 4 >= bytes.length * 3;
}

function decodeGuess(text: string, encoding: 'base64' | 'hex'): string | undefined {
  const body = encoding === 'hex' && (text.startsWith('0x') || text.startsWith('0X')) ? text.slice(2) : text;
  const bytes = Buffer.from(body, encoding === 'hex' ? 'hex' : 'base64');
  if (bytes.length < MIN_GUESS_BYTES || !isPlausibleText(bytes) || !mostlyAscii(bytes)) return undefined;
  return bytes.toString('utf8');
}

function variant(ctx: DecodeContext, location: string, value: string, chain: readonly string[], step: string): void {
  ctx.nestDepth++;
  emitValue(ctx, location, value, [...chain, step]);
  ctx.nestDepth--;
}

function walkNestedJson(ctx: DecodeContext, location: string, text: string, chain: readonly string[]): void {
  ctx.nestDepth++;
  walkJson(ctx, text, location, chain);
  ctx.nestDepth--;
}

/**
 * Applies every nested decoding that fits `value` (already emitted at `location` with
 * `chain`) and emits the results, recursively up to limits.maxDecodeDepth.
 */
export function decodeNested(ctx: DecodeContext, location: string, value: string, chain: readonly string[]): void {
  if (ctx.stopped) return;
  const sig = scan(value);
  const first = value.charCodeAt(0);
  const maybeContainer = first === 123 || first === 91 || first === 60 || value.indexOf('?') !== -1;
  const maybeAuth = first === 66 || first === 98 || first === 101; // Basic / Bearer / eyJ
  if (!sig.percent && !sig.amp && !sig.backslash && !sig.base64 && !sig.base64url && !sig.hex) {
    if (!maybeContainer && !maybeAuth) return;
  }
  if (ctx.nestDepth >= ctx.limits.maxDecodeDepth) {
    if (sig.percent || sig.backslash || sig.amp || maybeContainer) {
      addAnomaly(ctx, ANOMALY.decodeDepth, location, `more than ${ctx.limits.maxDecodeDepth} nested decodings`);
    }
    return;
  }

  if (sig.percent && hasPercentEscape(value)) {
    const d = percentDecode(value);
    if (d.invalidUtf8) addAnomaly(ctx, ANOMALY.invalidUtf8, location, 'percent-encoded bytes are not UTF-8');
    if (d.value !== value) variant(ctx, location, d.value, chain, 'url');
  }
  if (sig.amp && hasHtmlEntity(value)) {
    const d = decodeHtmlEntities(value);
    if (d !== value) variant(ctx, location, d, chain, 'html');
  }
  if (sig.backslash && hasJsEscape(value)) {
    const d = decodeJsEscapes(value);
    if (d !== value) variant(ctx, location, d, chain, 'js');
  }
  if (sig.base64 || sig.base64url) {
    const d = decodeGuess(value, 'base64');
    if (d !== undefined) variant(ctx, location, d, chain, sig.base64url ? 'base64url' : 'base64');
  }
  if (
    sig.hex ||
    (first === 48 && (value[1] === 'x' || value[1] === 'X') && /^0[xX](?:[0-9a-fA-F]{2}){3,}$/.test(value))
  ) {
    const d = decodeGuess(value, 'hex');
    // Digit-only hex must be long and yield letters: `20242024` is a number, not " $ $".
    const trusted = !sig.digitsOnly || (value.length >= 16 && d !== undefined && /[A-Za-z]/.test(d));
    if (d !== undefined && trusted) variant(ctx, location, d, chain, 'hex');
  }
  if (maybeContainer) {
    if (looksStructured(value)) {
      walkNestedJson(ctx, location, value, [...chain, 'json']);
    } else if (looksLikeXmlDocument(value)) {
      // XML carried in a parameter or JSON string (SOAP in JSON, SVG in a field): XXE lives there too.
      ctx.nestDepth++;
      walkXml(ctx, value, location, [...chain, 'xml']);
      ctx.nestDepth--;
    } else {
      const q = embeddedQuery(value);
      if (q !== undefined) {
        ctx.nestDepth++;
        walkForm(ctx, q, location, [...chain, 'query']);
        ctx.nestDepth--;
      }
    }
  }
  if (maybeAuth) decodeCredentials(ctx, location, value, chain);
}

/** `Basic <base64>` credentials and JWTs (alone or after `Bearer `). */
function decodeCredentials(ctx: DecodeContext, location: string, value: string, chain: readonly string[]): void {
  if (/^basic\s+/i.test(value)) {
    const token = value.replace(/^basic\s+/i, '').trim();
    const bytes = Buffer.from(token, 'base64');
    if (bytes.length > 0 && isPlausibleText(bytes)) variant(ctx, location, bytes.toString('utf8'), chain, 'base64');
    return;
  }
  const token = /^bearer\s+/i.test(value) ? value.replace(/^bearer\s+/i, '').trim() : value;
  if (!JWT.test(token)) return;
  const [head, payload] = token.split('.');
  for (const [part, name] of [
    [head, 'header'],
    [payload, 'payload'],
  ] as const) {
    const text = Buffer.from(part ?? '', 'base64url').toString('utf8');
    if (isJsonContainer(text)) walkNestedJson(ctx, `${location}.jwt.${name}`, text, [...chain, 'jwt', 'json']);
  }
}
