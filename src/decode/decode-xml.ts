import { ANOMALY } from './anomaly-codes.js';
import { addAnomaly, type DecodeContext, emitKey, emitValue, timeUp } from './decode-context.js';
import { decodeHtmlEntities } from './decode-escapes.js';

/*
 * A small XML/SOAP tokenizer that never expands entities: only character references and
 * the predefined entities are decoded; `&custom;` stays literal. DOCTYPE and ENTITY
 * declarations are reported as points (`body.xml.!doctype`, `body.xml.!entity.<name>`) for
 * the XXE detector, so a billion-laughs document costs one linear pass.
 */

/** Tags between two deadline checks. */
const CLOCK_EVERY = 512;

function isNameChar(c: number): boolean {
  return !(c === 32 || c === 9 || c === 10 || c === 13 || c === 47 || c === 62 || c === 61 || Number.isNaN(c));
}

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (!isWs(text.charCodeAt(k))) return false;
  return true;
}

function decodeRefs(s: string): string {
  return s.indexOf('&') === -1 ? s : decodeHtmlEntities(s);
}

/** True when text opens like an XML document (declaration, DOCTYPE or SVG root). */
export function looksLikeXmlDocument(text: string): boolean {
  return text.charCodeAt(0) === 60 && /^<(?:\?xml|!doctype|svg)[\s>]/i.test(text.slice(0, 16));
}

/** Walks an XML document; returns the number of elements seen. */
export function walkXml(ctx: DecodeContext, text: string, prefix: string, chain: readonly string[]): number {
  const { maxDepth } = ctx.limits;
  /** Element paths (`/a/b`); entries past maxDepth are '' (not emitted). */
  const stack: string[] = [];
  const names: string[] = [];
  let elements = 0;
  let i = 0;
  const n = text.length;
  const invalid = (why: string, at: number): void => {
    addAnomaly(ctx, ANOMALY.xmlInvalid, prefix, `${why} at offset ${at}`);
  };
  const emitting = (): boolean => stack.length <= maxDepth;
  const current = (): string => (stack.length === 0 ? '/' : stack[stack.length - 1]!);

  while (i < n && !ctx.stopped) {
    const lt = text.indexOf('<', i);
    const textEnd = lt === -1 ? n : lt;
    if (textEnd > i && emitting() && !isBlank(text, i, textEnd)) {
      emitValue(ctx, `${prefix}.${current()}`, decodeRefs(text.slice(i, textEnd)), chain);
    }
    if (lt === -1) break;
    if (++elements % CLOCK_EVERY === 0 && timeUp(ctx)) break;
    const next = text.charCodeAt(lt + 1);
    if (next !== 33 /* ! */ && next !== 63 /* ? */ && next !== 47 /* / */) {
      i = readStartTag(ctx, text, lt, prefix, chain, stack, names, invalid);
      if (i < 0) return elements;
    } else if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end === -1) {
        invalid('unterminated comment', lt);
        return elements;
      }
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      const body = text.slice(lt + 9, end === -1 ? n : end);
      if (body.length > 0 && emitting()) emitValue(ctx, `${prefix}.${current()}`, body, chain);
      if (end === -1) {
        invalid('unterminated CDATA', lt);
        return elements;
      }
      i = end + 3;
    } else if (text.startsWith('<!', lt) && /^<!doctype/i.test(text.slice(lt, lt + 9))) {
      i = readDoctype(ctx, text, lt, prefix, chain);
    } else if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      const body = text.slice(lt + 2, end === -1 ? n : end);
      let k = 0;
      while (k < body.length && isNameChar(body.charCodeAt(k))) k++;
      const target = body.slice(0, k);
      // The XML declaration carries nothing an application reads; other PIs (xml-stylesheet) can fetch.
      if (target.toLowerCase() !== 'xml' && target.length > 0) {
        emitValue(ctx, `${prefix}.?${target}`, body.slice(k).trim(), chain);
      }
      if (end === -1) {
        invalid('unterminated processing instruction', lt);
        return elements;
      }
      i = end + 2;
    } else if (text.charCodeAt(lt + 1) === 47 /* / */) {
      const end = text.indexOf('>', lt + 2);
      const name = text.slice(lt + 2, end === -1 ? n : end).trim();
      const at = openIndex(names, name);
      if (at === -1) invalid(`unexpected </${name.slice(0, 64)}>`, lt);
      else {
        // pop() rather than `length = at`: truncating through length is a slow path in V8.
        while (names.length > at) {
          names.pop();
          stack.pop();
        }
      }
      if (end === -1) {
        invalid('unterminated end tag', lt);
        return elements;
      }
      i = end + 1;
    } else {
      i = readStartTag(ctx, text, lt, prefix, chain, stack, names, invalid);
      if (i < 0) return elements;
    }
  }
  if (stack.length > 0 && !ctx.stopped) invalid(`${stack.length} unclosed elements`, n);
  return elements;
}

/** Elements searched for the match of an end tag: a bounded search keeps `</x>` floods linear. */
const MATCH_WINDOW = 64;

/** Index of the innermost open element named `name` among the last MATCH_WINDOW, or -1. */
function openIndex(names: string[], name: string): number {
  const low = Math.max(0, names.length - MATCH_WINDOW);
  for (let k = names.length - 1; k >= low; k--) if (names[k] === name) return k;
  return -1;
}

function readStartTag(
  ctx: DecodeContext,
  text: string,
  lt: number,
  prefix: string,
  chain: readonly string[],
  stack: string[],
  names: string[],
  invalid: (why: string, at: number) => void,
): number {
  const n = text.length;
  let k = lt + 1;
  while (k < n && isNameChar(text.charCodeAt(k)) && text.charCodeAt(k) !== 60) k++;
  const name = text.slice(lt + 1, k);
  if (name.length === 0) {
    invalid('"<" not starting a tag', lt);
    return lt + 1;
  }
  const parent = stack.length === 0 ? '' : stack[stack.length - 1]!;
  const deep = stack.length >= ctx.limits.maxDepth;
  const path = deep ? '' : `${parent}/${name.length > 256 ? name.slice(0, 256) : name}`;
  if (deep && stack.length === ctx.limits.maxDepth) {
    addAnomaly(ctx, ANOMALY.xmlDepth, prefix, `elements nested deeper than ${ctx.limits.maxDepth}`);
  }
  // Attributes: name="v" | name='v' | name=v (lenient) | name.
  while (k < n) {
    while (k < n && isWs(text.charCodeAt(k))) k++;
    const c = text.charCodeAt(k);
    if (c === 62 /* > */) {
      stack.push(path);
      names.push(name);
      return k + 1;
    }
    if (c === 47 /* / */ && text.charCodeAt(k + 1) === 62) return k + 2;
    const start = k;
    while (k < n && isNameChar(text.charCodeAt(k))) k++;
    if (k === start) {
      k++;
      continue;
    }
    const attr = text.slice(start, k);
    while (k < n && isWs(text.charCodeAt(k))) k++;
    let value = '';
    if (text.charCodeAt(k) === 61 /* = */) {
      k++;
      while (k < n && isWs(text.charCodeAt(k))) k++;
      const q = text.charCodeAt(k);
      if (q === 34 || q === 39) {
        const end = text.indexOf(q === 34 ? '"' : "'", k + 1);
        value = text.slice(k + 1, end === -1 ? n : end);
        k = end === -1 ? n : end + 1;
      } else {
        const s = k;
        while (k < n && !isWs(text.charCodeAt(k)) && text.charCodeAt(k) !== 62) k++;
        value = text.slice(s, k);
      }
    }
    if (!deep) {
      const location = `${prefix}.${path}/@${attr.length > 256 ? attr.slice(0, 256) : attr}`;
      emitKey(ctx, location, attr, chain);
      emitValue(ctx, location, decodeRefs(value), chain);
    }
  }
  invalid('unterminated start tag', lt);
  return -1;
}

/**
 * Reads `<!DOCTYPE …>` including an internal subset, emits it and each ENTITY declaration,
 * and returns the offset after it.
 */
function readDoctype(ctx: DecodeContext, text: string, lt: number, prefix: string, chain: readonly string[]): number {
  const n = text.length;
  let k = lt + 9;
  let bracket = 0;
  let quote = 0;
  for (; k < n; k++) {
    const c = text.charCodeAt(k);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 91) bracket++;
    else if (c === 93) bracket--;
    else if (c === 62 && bracket <= 0) break;
  }
  const end = Math.min(k + 1, n);
  const decl = text.slice(lt, end);
  emitValue(ctx, `${prefix}.!doctype`, decl, chain, false);
  let entities = 0;
  const re = /<!ENTITY\s+(%\s*)?([^\s>]+)\s*([^>]*)>?/gi;
  for (let m = re.exec(decl); m !== null && !ctx.stopped; m = re.exec(decl)) {
    entities++;
    const name = `${m[1] ? '%' : ''}${m[2]!.slice(0, 256)}`;
    emitValue(ctx, `${prefix}.!entity.${name}`, m[3]!.trim(), chain, false);
  }
  if (entities > 0) {
    addAnomaly(
      ctx,
      ANOMALY.xmlEntitiesDeclared,
      `${prefix}.!doctype`,
      `${entities} entity declarations (never expanded)`,
    );
  }
  if (k >= n) addAnomaly(ctx, ANOMALY.xmlInvalid, prefix, `unterminated DOCTYPE at offset ${lt}`);
  return end;
}
