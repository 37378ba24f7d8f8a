import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { CapturedResponse, Finding, ResponseView, SeverityName } from '../core/model.js';

/*
 * Shared by the response-side detectors (detect-response-*.ts): the response body is
 * decompressed and decoded to text once per exchange, and every leak finding is built the
 * same way (location `response.body` or `response.header.<name>`, fragment with a little
 * context, secrets masked before they leave the detector).
 */

/** Media types whose bodies are never text worth scanning. */
const BINARY =
  /^(?:image|video|audio|font)\/|^application\/(?:octet-stream|pdf|zip|gzip|x-tar|wasm|x-protobuf|grpc|vnd\.ms-excel)/;

function header(headers: CapturedResponse['headers'], name: string): string {
  for (const [n, v] of headers) if (n === name) return v;
  return '';
}

function decompress(body: Uint8Array, encoding: string, maxBytes: number): { bytes: Uint8Array; cut: boolean } | null {
  const opts = { maxOutputLength: maxBytes, finishFlush: 2 /* Z_SYNC_FLUSH: accept a capped, unterminated stream */ };
  try {
    switch (encoding) {
      case 'gzip':
      case 'x-gzip':
        return { bytes: gunzipSync(body, opts), cut: false };
      case 'deflate':
        // "deflate" is zlib-wrapped by the RFC but raw in the wild: try both.
        try {
          return { bytes: inflateSync(body, opts), cut: false };
        } catch {
          return { bytes: inflateRawSync(body, opts), cut: false };
        }
      case 'br':
        return { bytes: brotliDecompressSync(body, { maxOutputLength: maxBytes }), cut: false };
      default:
        return null;
    }
  } catch {
    // More than maxBytes once expanded (ERR_BUFFER_TOO_LARGE: a bomb or a big page) or a
    // corrupt stream: nothing trustworthy to scan, and the view says so.
    return { bytes: new Uint8Array(0), cut: true };
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Builds the text view of a captured response, within maxTextBytes. */
export function buildResponseView(response: CapturedResponse, maxTextBytes: number): ResponseView {
  const contentType = header(response.headers, 'content-type').split(';')[0]!.trim().toLowerCase();
  const encoding = header(response.headers, 'content-encoding').trim().toLowerCase();
  let bytes = response.body;
  let truncated = response.bodyTruncated;
  if (BINARY.test(contentType))
    return { status: response.status, headers: response.headers, contentType, text: '', truncated };
  if (encoding !== '' && encoding !== 'identity') {
    const out = decompress(bytes, encoding, maxTextBytes);
    if (out) {
      bytes = out.bytes;
      truncated ||= out.cut;
    }
  }
  if (bytes.byteLength > maxTextBytes) {
    bytes = bytes.subarray(0, maxTextBytes);
    truncated = true;
  }
  return { status: response.status, headers: response.headers, contentType, text: utf8.decode(bytes), truncated };
}

/** A fragment of `text` around [index, index+length), with a little context, on one line. */
export function snippet(text: string, index: number, length: number, context = 40): string {
  const start = Math.max(0, index - context);
  const end = Math.min(text.length, index + length + context);
  return text.slice(start, end).replace(/\s+/g, ' ').trim();
}

/** Builds a response-side finding (location `response.body` unless given). */
export function responseFinding(
  f: {
    attackType: string;
    ruleId: string;
    severity: SeverityName;
    confidence: number;
    fragment: string;
    reason: string;
  },
  location = 'response.body',
): Finding {
  return { ...f, location, chain: [], tags: ['response'] };
}

/** A response-side rule that matches one regular expression against the response text. */
export interface ResponsePatternRule {
  ruleId: string;
  pattern: RegExp;
}

/**
 * The first match of every rule, as findings of one class: the shape shared by the
 * pattern-based response detectors (SQL errors, stack traces).
 */
export function matchResponseRules<R extends ResponsePatternRule>(
  text: string,
  rules: readonly R[],
  finding: { attackType: string; severity: SeverityName; confidence: number; reason: (rule: R) => string },
): Finding[] {
  if (text === '') return [];
  const out: Finding[] = [];
  for (const rule of rules) {
    const m = rule.pattern.exec(text);
    if (!m) continue;
    out.push(
      responseFinding({
        attackType: finding.attackType,
        ruleId: rule.ruleId,
        severity: finding.severity,
        confidence: finding.confidence,
        fragment: snippet(text, m.index, m[0].length),
        reason: finding.reason(rule),
      }),
    );
  }
  return out;
}

/** Keeps the first `keepStart` and last `keepEnd` characters of a secret, masking the rest. */
export function mask(secret: string, keepStart: number, keepEnd: number): string {
  if (secret.length <= keepStart + keepEnd + 2) return '*'.repeat(secret.length);
  return `${secret.slice(0, keepStart)}${'*'.repeat(secret.length - keepStart - keepEnd)}${secret.slice(secret.length - keepEnd)}`;
}
