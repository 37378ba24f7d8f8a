import { isPlausibleString } from './decode-charset.js';
import { looksLikeGraphql } from './decode-graphql.js';
import { sniffBoundary } from './decode-multipart.js';

/** What a body is decoded as. */
export type BodyKind = 'json' | 'jsonl' | 'form' | 'multipart' | 'xml' | 'graphql' | 'text' | 'binary';

/** Structured kinds: a Content-Type naming one of these makes a contrary body a mismatch. */
const STRUCTURED = new Set<BodyKind>(['json', 'jsonl', 'form', 'multipart', 'xml', 'graphql']);

export function isStructured(kind: BodyKind | undefined): boolean {
  return kind !== undefined && STRUCTURED.has(kind);
}

/**
 * The kind a Content-Type declares, or undefined when it says nothing useful
 * (absent, text/plain, application/octet-stream, or an unrelated media type).
 */
export function declaredKind(contentType: string): BodyKind | undefined {
  const semi = contentType.indexOf(';');
  const mt = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (mt === '') return undefined;
  if (mt === 'application/x-www-form-urlencoded') return 'form';
  if (mt.startsWith('multipart/')) return 'multipart';
  if (mt === 'application/graphql') return 'graphql';
  if (
    mt === 'application/x-ndjson' ||
    mt === 'application/ndjson' ||
    mt === 'application/jsonl' ||
    mt === 'application/x-jsonlines' ||
    mt === 'application/json-seq'
  ) {
    return 'jsonl';
  }
  if (mt.endsWith('/json') || mt.endsWith('+json')) return 'json';
  if (mt.endsWith('/xml') || mt.endsWith('+xml')) return 'xml';
  return undefined;
}

function firstNonWs(text: string): number {
  for (let i = 0; i < text.length && i < 4096; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xfeff) return i;
  }
  return -1;
}

/** `a=1&b=2`-shaped: a key, `=`, no whitespace in the first 256 characters. */
function looksLikeForm(text: string): boolean {
  const head = text.slice(0, 256);
  const eq = head.indexOf('=');
  return eq > 0 && !/[\s<>{}"]/.test(head);
}

/** Several JSON documents, one per line. */
function looksLikeJsonLines(text: string, at: number): boolean {
  const nl = text.indexOf('\n', at);
  if (nl === -1) return false;
  const line = text.slice(at, nl).trim();
  const last = line.charCodeAt(line.length - 1);
  if (last !== 125 && last !== 93) return false;
  const next = firstNonWs(text.slice(nl + 1, nl + 4097));
  const c = next === -1 ? -1 : text.charCodeAt(nl + 1 + next);
  return c === 123 || c === 91;
}

/**
 * What the body looks like, from its first bytes. A form is only guessed when `formAllowed`
 * (no Content-Type, or a structured one the body does not fit): any text with `=` matches.
 */
export function sniffKind(text: string, bytes: Uint8Array, formAllowed: boolean): BodyKind {
  const at = firstNonWs(text);
  if (at === -1) return isPlausibleString(text.slice(0, 1024)) ? 'text' : 'binary';
  const c = text.charCodeAt(at);
  if (c === 123 || c === 91) return looksLikeJsonLines(text, at) ? 'jsonl' : 'json';
  if (c === 60 /* < */) return 'xml';
  if (c === 45 && sniffBoundary(bytes) !== undefined) return 'multipart';
  if (looksLikeGraphql(text.slice(at, at + 64)) && c !== 123) return 'graphql';
  if (!isPlausibleString(text.slice(0, 1024))) return 'binary';
  if (formAllowed && looksLikeForm(text)) return 'form';
  return 'text';
}

/** Quick check that a body fits the kind its Content-Type declares. */
export function fitsDeclared(kind: BodyKind, text: string): boolean {
  const at = firstNonWs(text);
  if (at === -1) return true;
  const c = text.charCodeAt(at);
  switch (kind) {
    case 'json':
      return (
        c === 123 || c === 91 || c === 34 || c === 45 || (c >= 48 && c <= 57) || c === 116 || c === 102 || c === 110
      );
    case 'jsonl':
      return c === 123 || c === 91;
    case 'xml':
      return c === 60;
    case 'form':
      return c !== 123 && c !== 91 && c !== 60;
    case 'graphql':
      return looksLikeGraphql(text.slice(at, at + 64));
    default:
      return true;
  }
}
