import { ANOMALY } from './anomaly-codes.js';
import { addAnomaly, childLocation, type DecodeContext, emitKey, emitValue, timeUp } from './decode-context.js';
import { decodeJsEscapes } from './decode-escapes.js';

/*
 * A lenient, iterative JSON walker: it never builds the document, never recurses (a
 * 100k-deep array costs one pass and a bounded stack of locations) and, on a syntax error,
 * keeps what it read before it. Attackers break JSON on purpose at the end of a body so
 * that parsers which give up on errors see nothing; truncated mirrored bodies do the same
 * by accident.
 */

interface Frame {
  array: boolean;
  location: string;
  index: number;
}

const enum Expect {
  Value,
  ValueOrEnd,
  Key,
  KeyOrEnd,
  Colon,
  CommaOrEnd,
  Done,
}

/** How many tokens between two deadline checks. */
const CLOCK_EVERY = 1024;

export interface JsonWalkResult {
  /** Offset of the first syntax error, or -1 when the text was complete, valid JSON. */
  errorAt: number;
  /** Values emitted (0 with errorAt 0 means "this is not JSON at all"). */
  values: number;
}

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function isDelimiter(c: number): boolean {
  return c === 44 || c === 93 || c === 125 || c === 58 || isWs(c) || Number.isNaN(c);
}

// The walker's helpers are module functions, not closures over its state: walkJson runs for
// every JSON body and every JSON-looking value, and closures would be made on each call.

function fail(ctx: DecodeContext, prefix: string, values: number, at: number, why: string): JsonWalkResult {
  addAnomaly(ctx, ANOMALY.jsonInvalid, prefix, `${why} at offset ${at}`);
  return { errorAt: at, values };
}

function valueLocation(stack: readonly Frame[], prefix: string, pendingLocation: string): string {
  const top = stack[stack.length - 1];
  if (top === undefined) return prefix;
  return top.array ? `${top.location}[${top.index}]` : pendingLocation;
}

/**
 * Walks one JSON text and emits `prefix.key`, `prefix.key[0]` … points. Keys are points
 * too. Strings get nested decoding; numbers and booleans are emitted as written.
 */
export function walkJson(ctx: DecodeContext, text: string, prefix: string, chain: readonly string[]): JsonWalkResult {
  const { maxDepth } = ctx.limits;
  const stack: Frame[] = [];
  let expect = Expect.Value as Expect;
  let i = 0;
  let values = 0;
  let tokens = 0;
  const n = text.length;
  let pendingLocation = prefix;

  while (i < n) {
    const c = text.charCodeAt(i);
    if (isWs(c)) {
      i++;
      continue;
    }
    if (++tokens % CLOCK_EVERY === 0 && timeUp(ctx)) return { errorAt: -1, values };
    if (ctx.stopped) return { errorAt: -1, values };
    switch (expect) {
      case Expect.Done:
        return fail(ctx, prefix, values, i, 'data after the JSON value');
      case Expect.Colon:
        if (c !== 58) return fail(ctx, prefix, values, i, 'expected ":"');
        expect = Expect.Value;
        i++;
        continue;
      case Expect.CommaOrEnd: {
        const top = stack[stack.length - 1]!;
        if (c === 44) {
          if (top.array) {
            top.index++;
            expect = Expect.Value;
          } else {
            expect = Expect.Key;
          }
          i++;
          continue;
        }
        if (c === (top.array ? 93 : 125)) {
          stack.pop();
          i++;
          expect = stack.length === 0 ? Expect.Done : Expect.CommaOrEnd;
          continue;
        }
        return fail(ctx, prefix, values, i, 'expected "," or a closing bracket');
      }
      case Expect.Key:
      case Expect.KeyOrEnd: {
        if (c === 125 && expect === Expect.KeyOrEnd) {
          stack.pop();
          i++;
          expect = stack.length === 0 ? Expect.Done : Expect.CommaOrEnd;
          continue;
        }
        if (c !== 34) return fail(ctx, prefix, values, i, 'expected a key');
        const s = readString(text, i);
        const top = stack[stack.length - 1]!;
        pendingLocation = childLocation(top.location, s.value);
        emitKey(ctx, pendingLocation, s.value, chain);
        if (s.end < 0) return fail(ctx, prefix, values, n, 'unterminated string');
        i = s.end;
        expect = Expect.Colon;
        continue;
      }
      case Expect.Value:
      case Expect.ValueOrEnd: {
        if (c === 93 && expect === Expect.ValueOrEnd) {
          stack.pop();
          i++;
          expect = stack.length === 0 ? Expect.Done : Expect.CommaOrEnd;
          continue;
        }
        if (c === 123 || c === 91) {
          if (stack.length >= maxDepth) {
            // Past the limit the subtree is skipped in one tight scan: no frames, no
            // locations, no points (a 100k-deep document costs one pass over its bytes).
            addAnomaly(ctx, ANOMALY.jsonDepth, prefix, `nested deeper than ${maxDepth}`);
            const end = skipContainer(text, i);
            if (end < 0) return fail(ctx, prefix, values, n, 'truncated');
            values++;
            i = end;
            expect = stack.length === 0 ? Expect.Done : Expect.CommaOrEnd;
            continue;
          }
          stack.push({ array: c === 91, location: valueLocation(stack, prefix, pendingLocation), index: 0 });
          expect = c === 91 ? Expect.ValueOrEnd : Expect.KeyOrEnd;
          i++;
          continue;
        }
        if (c === 34) {
          const s = readString(text, i);
          values++;
          emitValue(ctx, valueLocation(stack, prefix, pendingLocation), s.value, chain);
          if (s.end < 0) return fail(ctx, prefix, values, n, 'unterminated string');
          i = s.end;
          expect = stack.length === 0 ? Expect.Done : Expect.CommaOrEnd;
          continue;
        }
        let j = i;
        while (j < n && !isDelimiter(text.charCodeAt(j))) j++;
        const literal = text.slice(i, j);
        if (!isJsonLiteral(literal)) return fail(ctx, prefix, values, i, 'unexpected token');
        values++;
        if (literal !== 'null') emitValue(ctx, valueLocation(stack, prefix, pendingLocation), literal, chain, false);
        i = j;
        expect = stack.length === 0 ? Expect.Done : Expect.CommaOrEnd;
        continue;
      }
    }
  }
  if (expect !== Expect.Done)
    return fail(ctx, prefix, values, n, values === 0 && stack.length === 0 ? 'empty document' : 'truncated');
  return { errorAt: -1, values };
}

/** Offset just after the container opening at `start`, or -1 when it never closes. */
function skipContainer(text: string, start: number): number {
  let depth = 0;
  const n = text.length;
  for (let k = start; k < n; k++) {
    const c = text.charCodeAt(k);
    if (c === 34) {
      const end = closingQuote(text, k);
      if (end < 0) return -1;
      k = end;
    } else if (c === 91 || c === 123) {
      depth++;
    } else if (c === 93 || c === 125) {
      if (--depth === 0) return k + 1;
    }
  }
  return -1;
}

/** Offset of the quote closing the string opened at `start`, or -1. */
function closingQuote(text: string, start: number): number {
  let j = text.indexOf('"', start + 1);
  while (j !== -1) {
    let k = j - 1;
    while (text.charCodeAt(k) === 92) k--;
    // An odd number of backslashes before the quote escapes it.
    if ((j - 1 - k) % 2 === 0) return j;
    j = text.indexOf('"', j + 1);
  }
  return -1;
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function isJsonLiteral(s: string): boolean {
  return s === 'true' || s === 'false' || s === 'null' || NUMBER.test(s);
}

/** Reads the string starting at the quote at `start`; end is -1 when it never closes. */
function readString(text: string, start: number): { value: string; end: number } {
  const j = closingQuote(text, start);
  const end = j === -1 ? text.length : j;
  const raw = text.slice(start + 1, end);
  if (raw.indexOf('\\') === -1) return { value: raw, end: j === -1 ? -1 : j + 1 };
  let value: string;
  try {
    value = JSON.parse(`"${raw}"`) as string;
  } catch {
    value = decodeJsEscapes(raw);
  }
  return { value, end: j === -1 ? -1 : j + 1 };
}

/**
 * JSON lines (NDJSON): each non-empty line is one document at `prefix[N]`. Returns the
 * number of lines that were valid JSON.
 */
export function walkJsonLines(ctx: DecodeContext, text: string, prefix: string, chain: readonly string[]): number {
  let valid = 0;
  let line = 0;
  let start = 0;
  while (start < text.length && !ctx.stopped) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const doc = text.slice(start, end).trim();
    if (doc.length > 0) {
      if (walkJson(ctx, doc, `${prefix}[${line}]`, chain).errorAt === -1) valid++;
      line++;
    }
    start = end + 1;
  }
  return valid;
}

/** True when `text` (trimmed) is a complete JSON object or array: cheap gate for JSON-in-string. */
export function isJsonContainer(text: string): boolean {
  const t = text.trim();
  const a = t.charCodeAt(0);
  const z = t.charCodeAt(t.length - 1);
  if (!((a === 123 && z === 125) || (a === 91 && z === 93))) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}
