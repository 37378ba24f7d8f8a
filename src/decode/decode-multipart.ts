import { ANOMALY } from './anomaly-codes.js';
import { bytesToText, charsetOf, isPlausibleText } from './decode-charset.js';
import { addAnomaly, childLocation, type DecodeContext, emitKey, emitValue, timeUp } from './decode-context.js';
import { percentDecode } from './decode-percent.js';
import { looksLikeXmlDocument, walkXml } from './decode-xml.js';

/*
 * multipart/form-data, parsed synchronously over the captured bytes (busboy is stream- and
 * event-based, which buys nothing for a buffer already in memory inside a worker). Parts are
 * located with Buffer.indexOf, so 10k tiny parts cost one pass until maxMultipartParts.
 */

/** RFC 2046 caps boundaries at 70 characters; anything much longer is hostile. */
const MAX_BOUNDARY = 200;
/** Bytes of one part's header block. */
const MAX_PART_HEAD = 16 * 1024;

/** The boundary parameter of a multipart Content-Type, or undefined. */
export function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  return b === undefined || b.length === 0 ? undefined : b;
}

/** A boundary guessed from a body that starts like multipart (`--xyz\r\nContent-Disposition`). */
export function sniffBoundary(body: Uint8Array): string | undefined {
  if (body[0] !== 45 || body[1] !== 45) return undefined;
  const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 512)).toString('latin1');
  const m = /^--([^\r\n]{1,200})\r?\n[Cc]ontent-/.exec(head);
  return m?.[1];
}

interface PartHead {
  headers: Array<[string, string]>;
  name: string | undefined;
  filename: string | undefined;
  contentType: string;
  transferEncoding: string;
}

/**
 * Parameters of a Content-Disposition value (`form-data; name="a"; filename*=UTF-8''x`),
 * lower-cased names, quoted values unescaped. One linear pass: a regex per parameter
 * backtracks quadratically on hostile values with many `;` and unclosed quotes.
 */
function dispositionParams(value: string): Map<string, string> {
  const params = new Map<string, string>();
  const n = value.length;
  let i = value.indexOf(';');
  while (i !== -1 && i < n) {
    i++;
    while (i < n && (value.charCodeAt(i) === 32 || value.charCodeAt(i) === 9)) i++;
    const eq = i;
    let k = i;
    while (k < n && value.charCodeAt(k) !== 61 /* = */ && value.charCodeAt(k) !== 59 /* ; */) k++;
    if (k >= n || value.charCodeAt(k) === 59) {
      i = k < n ? k : -1;
      continue;
    }
    const name = value.slice(eq, k).trim().toLowerCase();
    k++;
    while (k < n && (value.charCodeAt(k) === 32 || value.charCodeAt(k) === 9)) k++;
    let v = '';
    if (value.charCodeAt(k) === 34 /* " */) {
      k++;
      while (k < n && value.charCodeAt(k) !== 34) {
        if (value.charCodeAt(k) === 92 /* \ */ && k + 1 < n) k++;
        v += value[k];
        k++;
      }
      k++;
      const semi = value.indexOf(';', k);
      i = semi;
    } else {
      const semi = value.indexOf(';', k);
      v = value.slice(k, semi === -1 ? n : semi).trim();
      i = semi;
    }
    if (!params.has(name)) params.set(name, v);
  }
  return params;
}

function parseHead(raw: string): PartHead {
  const headers: Array<[string, string]> = [];
  let disposition = '';
  let contentType = '';
  let transferEncoding = '';
  for (const line of raw.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.push([name, value]);
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') contentType = value;
    else if (name === 'content-transfer-encoding') transferEncoding = value.toLowerCase();
  }
  const params = dispositionParams(disposition);
  let filename = params.get('filename*');
  if (filename !== undefined) {
    // RFC 5987: charset'lang'percent-encoded
    const parts = filename.split("'");
    filename = percentDecode(parts.length >= 3 ? parts.slice(2).join("'") : filename).value;
  } else {
    filename = params.get('filename');
  }
  return { headers, name: params.get('name'), filename, contentType, transferEncoding };
}

/**
 * Walks multipart/form-data. Per part: the field name (key point), `<field>.filename`,
 * `<field>.header.<name>` for each part header, and the content at `<field>`: text fields
 * in full, files as a sample (limits.maxPartSampleBytes) and only when the sample is text.
 * Returns the number of parts, or -1 when no boundary was found (not multipart at all).
 */
export function walkMultipart(
  ctx: DecodeContext,
  body: Buffer,
  boundary: string,
  prefix: string,
  chain: readonly string[],
): number {
  if (boundary.length > MAX_BOUNDARY) {
    addAnomaly(ctx, ANOMALY.multipartMalformed, prefix, `boundary of ${boundary.length} characters`);
    return -1;
  }
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const next = Buffer.from(`\n--${boundary}`, 'latin1');
  const first = body.indexOf(delim);
  if (first === -1) {
    addAnomaly(ctx, ANOMALY.multipartMalformed, prefix, 'boundary not found in the body');
    return -1;
  }
  const { maxMultipartParts, maxPartSampleBytes } = ctx.limits;
  let pos = first + delim.length;
  let parts = 0;
  while (!ctx.stopped) {
    if (body[pos] === 45 && body[pos + 1] === 45) {
      if (parts === 0) addAnomaly(ctx, ANOMALY.multipartMalformed, prefix, 'closing boundary before any part');
      return parts;
    }
    const lineEnd = body.indexOf(10, pos);
    if (lineEnd === -1) break;
    const headStart = lineEnd + 1;
    const window = body.subarray(headStart, headStart + MAX_PART_HEAD);
    let headEnd = window.indexOf('\r\n\r\n');
    let sep = 4;
    const lf = window.indexOf('\n\n');
    if (lf !== -1 && (headEnd === -1 || lf < headEnd)) {
      headEnd = lf;
      sep = 2;
    }
    if (headEnd === -1) {
      addAnomaly(ctx, ANOMALY.multipartMalformed, prefix, `part ${parts} has no end of headers`);
      return parts;
    }
    if (++parts > maxMultipartParts) {
      addAnomaly(ctx, ANOMALY.multipartParts, prefix, `more than ${maxMultipartParts} parts`);
      return parts - 1;
    }
    if (parts % 64 === 0 && timeUp(ctx)) return parts;
    const contentStart = headStart + headEnd + sep;
    const nextAt = body.indexOf(next, contentStart);
    let contentEnd = nextAt === -1 ? body.length : nextAt;
    if (contentEnd > contentStart && body[contentEnd - 1] === 13) contentEnd--;
    emitPart(ctx, parseHead(window.toString('latin1', 0, headEnd)), body.subarray(contentStart, contentEnd), {
      prefix,
      chain,
      index: parts - 1,
      sampleBytes: maxPartSampleBytes,
    });
    if (nextAt === -1) break;
    pos = nextAt + next.length;
  }
  if (!ctx.stopped) addAnomaly(ctx, ANOMALY.multipartUnterminated, prefix, 'body ends before the closing boundary');
  return parts;
}

function emitPart(
  ctx: DecodeContext,
  head: PartHead,
  raw: Buffer,
  at: { prefix: string; chain: readonly string[]; index: number; sampleBytes: number },
): void {
  const name = head.name ?? '';
  const location = childLocation(at.prefix, name === '' ? `#${at.index}` : name);
  emitKey(ctx, location, name, at.chain);
  if (head.filename !== undefined) emitValue(ctx, `${location}.filename`, head.filename, at.chain);
  for (const [h, v] of head.headers) emitValue(ctx, `${location}.header.${h}`, v, at.chain, false);
  let content = raw;
  let chain = at.chain;
  if (head.transferEncoding === 'base64') {
    content = Buffer.from(raw.toString('latin1'), 'base64');
    chain = [...chain, 'base64'];
  }
  if (head.filename !== undefined) {
    // Files: a sample, and only text (webshells, SVG, HTML); image bytes would be noise.
    let end = Math.min(content.length, at.sampleBytes);
    // Cut on a character boundary so a sample of UTF-8 text stays valid UTF-8.
    while (end < content.length && end > at.sampleBytes - 4 && (content[end]! & 0xc0) === 0x80) end--;
    const sample = content.subarray(0, end);
    if (!isPlausibleText(sample)) return;
    const text = sample.toString('utf8');
    emitValue(ctx, location, text, chain, false);
    // SVG / XML uploads: their DOCTYPE and entities matter to the XXE detector.
    if (looksLikeXmlDocument(text)) walkXml(ctx, text, location, [...chain, 'xml']);
    return;
  }
  const text = bytesToText(content, charsetOf(head.contentType));
  if (text.invalidUtf8) addAnomaly(ctx, ANOMALY.invalidUtf8, location, 'part content is not UTF-8');
  emitValue(ctx, location, text.text, text.step === undefined ? chain : [...chain, text.step]);
}
