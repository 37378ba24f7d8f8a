import { ERR_HTTP_HEADER_OVERFLOW, ERR_HTTP_MALFORMED, type ShadowtapError } from '../core/errors.js';
import { HTTP_TOKEN } from '../core/http-token.js';
import type { HeaderList } from '../core/model.js';

/**
 * An incremental HTTP/1.1 request parser for the shadow port (RFC 9112), written for this
 * one job: mirrored requests are parsed once, answered at once and never forwarded, so the
 * parser hands out exactly what the capture needs (a HeaderList, the target, body slices)
 * and nothing else. Node's http server builds an IncomingMessage, a ServerResponse, a
 * header object and several closures per request; on the shadow port that was about as
 * much main-thread CPU as the kernel's own socket work (docs/benchmark.md).
 *
 * Strict where a lenient reading could make shadowtap see a different request than the
 * application did (request smuggling): CRLF line endings only, no obs-fold, no whitespace
 * before the colon, header values without control characters, Content-Length digits only.
 * Where framing is ambiguous but the request is still worth analysing — Content-Length
 * together with Transfer-Encoding, conflicting Content-Lengths, a Transfer-Encoding that
 * does not end in chunked — the head is still delivered (so detect-protocol sees those
 * headers) and the connection closes after it, as RFC 9112 §6.1/§6.3 asks.
 */

/** The parsed request head, as the capture needs it. */
export interface Http1Head {
  method: string;
  /** Request target as sent (latin1, like Node's req.url). */
  target: string;
  httpVersion: '1.0' | '1.1';
  /** Lower-cased names, order and duplicates kept. */
  headers: HeaderList;
  /** First Host header value, or ''. */
  host: string;
  /** First x-request-id value. */
  requestId: string | undefined;
  /** An x-shadowtap-health-check header is present. */
  healthCheck: boolean;
  /** The client asked for 100 Continue before sending a body. */
  expectContinue: boolean;
  /**
   * The connection ends after this request: Connection: close, HTTP/1.0 without
   * keep-alive, or ambiguous framing.
   */
  close: boolean;
  /**
   * The body cannot be framed (conflicting Content-Length, Transfer-Encoding not ending in
   * chunked): it is skipped, the head is analysed with what it carries, and the answer is
   * 400 before the connection closes.
   */
  unframed: boolean;
}

/** What the parser calls, in order: onHead, onBody* (body slices, no copy), onEnd. */
export interface Http1Handler {
  onHead(head: Http1Head): void;
  onBody(chunk: Buffer): void;
  onEnd(): void;
}

export interface Http1Limits {
  /** Request line plus header section (and, separately, a chunked trailer section), bytes. */
  maxHeaderBytes: number;
}

/** Where the parser stands: between requests, inside a head, inside a body, or finished. */
export type Http1Phase = 'idle' | 'head' | 'body' | 'done';

export interface Http1Parser {
  /**
   * Feeds bytes. Returns an error once the stream can no longer be parsed; the parser is
   * then done and the connection should be answered and closed. Bytes after a request that
   * closes the connection are ignored.
   */
  execute(chunk: Buffer): ShadowtapError | undefined;
  phase(): Http1Phase;
}

const CRLF = 0x0a0d; // "\r\n" read as a little-endian uint16
const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF_BYTES = Buffer.from('\r\n');
// The chunk-size line: hex size, optional extensions. 4 KiB bounds the extensions without
// rejecting anything a real client sends.
const MAX_CHUNK_LINE = 4096;
// 2^53 - 1 has 14 hex digits; a longer size is either padding or an overflow attempt.
const MAX_HEX_DIGITS = 14;

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\x00-\x20\x7f]+) HTTP\/1\.([01])$/;
// Field values: visible characters, SP, HTAB and obs-text; no other control character.
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const DIGITS = /^\d{1,15}$/;
const HEX_SIZE = /^([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?$/;

const enum Body {
  None,
  Length,
  Chunked,
}

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
}

interface Framing {
  body: Body;
  length: number;
  close: boolean;
  unframed: boolean;
}

/** Trims SP and HTAB (OWS) from both ends. */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** A header or trailer field line as [lower-cased name, trimmed value], or why it is malformed. */
function fieldLine(line: string): [name: string, value: string] | string {
  const colon = line.indexOf(':');
  if (colon <= 0) return 'field line without a name';
  const name = line.slice(0, colon);
  if (!HTTP_TOKEN.test(name)) return 'invalid field name';
  const value = trimOws(line.slice(colon + 1));
  if (BAD_VALUE.test(value)) return 'control character in a field value';
  return [name.toLowerCase(), value];
}

/** Body framing from the message headers (RFC 9112 §6.3). */
function framing(contentLengths: string[], transferEncodings: string[], version: '1.0' | '1.1'): Framing {
  if (transferEncodings.length > 0) {
    const codings = transferEncodings
      .join(',')
      .split(',')
      .map((c) => trimOws(c).toLowerCase())
      .filter((c) => c !== '');
    const chunkedLast = codings[codings.length - 1] === 'chunked' && codings.indexOf('chunked') === codings.length - 1;
    // TE wins over CL, but a message with both is a smuggling attempt or a broken proxy:
    // close after it so nothing that follows is read with the other party's framing.
    const close = contentLengths.length > 0 || version === '1.0';
    return chunkedLast
      ? { body: Body.Chunked, length: 0, close, unframed: false }
      : { body: Body.None, length: 0, close: true, unframed: true };
  }
  if (contentLengths.length > 0) {
    let value: number | undefined;
    for (const header of contentLengths) {
      for (const part of header.split(',')) {
        const digits = trimOws(part);
        if (!DIGITS.test(digits)) return { body: Body.None, length: 0, close: true, unframed: true };
        const n = Number(digits);
        if (value !== undefined && n !== value) return { body: Body.None, length: 0, close: true, unframed: true };
        value = n;
      }
    }
    return { body: value! > 0 ? Body.Length : Body.None, length: value!, close: false, unframed: false };
  }
  return { body: Body.None, length: 0, close: false, unframed: false };
}

/** Parses one request head (request line and fields, without the final CRLFCRLF). */
function parseHead(text: string): { head: Http1Head; framing: Framing } | ShadowtapError {
  const lines = text.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]!);
  if (!m) return ERR_HTTP_MALFORMED('invalid request line');
  const httpVersion = m[3] === '1' ? '1.1' : '1.0';
  const headers: HeaderList = [];
  const contentLengths: string[] = [];
  const transferEncodings: string[] = [];
  let host: string | undefined;
  let requestId: string | undefined;
  let healthCheck = false;
  let expectContinue = false;
  let connClose = httpVersion === '1.0';
  for (let i = 1; i < lines.length; i++) {
    const field = fieldLine(lines[i]!);
    if (typeof field === 'string') return ERR_HTTP_MALFORMED(field);
    const [name, value] = field;
    headers.push(field);
    switch (name) {
      case 'host':
        host ??= value;
        break;
      case 'content-length':
        contentLengths.push(value);
        break;
      case 'transfer-encoding':
        transferEncodings.push(value);
        break;
      case 'connection': {
        const tokens = value.toLowerCase();
        if (/(?:^|,)[ \t]*close[ \t]*(?:,|$)/.test(tokens)) connClose = true;
        else if (httpVersion === '1.0' && /(?:^|,)[ \t]*keep-alive[ \t]*(?:,|$)/.test(tokens)) connClose = false;
        break;
      }
      case 'x-request-id':
        requestId ??= value;
        break;
      case 'x-shadowtap-health-check':
        healthCheck = true;
        break;
      case 'expect':
        if (value.toLowerCase() === '100-continue') expectContinue = true;
        break;
    }
  }
  const f = framing(contentLengths, transferEncodings, httpVersion);
  return {
    head: {
      method: m[1]!,
      target: m[2]!,
      httpVersion,
      headers,
      host: host ?? '',
      requestId,
      healthCheck,
      expectContinue: expectContinue && f.body !== Body.None,
      close: connClose || f.close,
      unframed: f.unframed,
    },
    framing: f,
  };
}

/** Creates a parser for one connection. */
export function createHttp1Parser(handler: Http1Handler, limits: Http1Limits): Http1Parser {
  const maxHead = limits.maxHeaderBytes;
  let phase: Http1Phase = 'idle';
  let body = Body.None;
  let remaining = 0;
  let chunk = Chunk.Size;
  let closeAfter = false;

  // Bytes of an unfinished head, chunk-size line or trailer section, carried to the next
  // read. A head sent a byte at a time must not cost O(n²): the carry grows by doubling and
  // is appended to in place, and the terminator search resumes where the last one stopped.
  let store: Buffer | undefined;
  let storeLen = 0;
  let scanFrom = 0;
  // Whether the buffer being parsed is `store` itself (then body slices point into it).
  let fromStore = false;

  /** Keeps buf[at..] for the next read. */
  const carry = (buf: Buffer, at: number): -1 => {
    const n = buf.length - at;
    if (fromStore && at === 0) {
      storeLen = n; // still at the start of `store`: nothing to copy
    } else {
      store = Buffer.allocUnsafe(Math.max(1024, 2 * n));
      buf.copy(store, 0, at);
      storeLen = n;
    }
    scanFrom = Math.max(0, n - 3);
    return -1;
  };

  const fail = (err: ShadowtapError): ShadowtapError => {
    phase = 'done';
    store = undefined;
    storeLen = 0;
    return err;
  };

  const endMessage = (): void => {
    phase = closeAfter ? 'done' : 'idle';
    handler.onEnd();
  };

  /** Finds the end of a field section starting at `at`, resuming a carried search. */
  const sectionEnd = (buf: Buffer, at: number): number => {
    const end = buf.indexOf(HEAD_END, at + scanFrom);
    scanFrom = 0;
    return end;
  };

  /** Consumes a head from buf[at..]; returns the next offset, -1 when more bytes are needed, or an error. */
  const readHead = (buf: Buffer, at: number): number | ShadowtapError => {
    if (phase === 'idle') {
      // Empty lines before a request line are ignored (RFC 9112 §2.2).
      while (at + 1 < buf.length && buf.readUInt16LE(at) === CRLF) at += 2;
      if (at >= buf.length) return at;
      if (at + 1 === buf.length && buf[at] === 13) return carry(buf, at);
      phase = 'head';
    }
    const end = sectionEnd(buf, at);
    if (end < 0) {
      if (buf.length - at > maxHead) return fail(ERR_HTTP_HEADER_OVERFLOW(maxHead));
      return carry(buf, at);
    }
    if (end - at > maxHead) return fail(ERR_HTTP_HEADER_OVERFLOW(maxHead));
    const parsed = parseHead(buf.toString('latin1', at, end));
    if ('code' in parsed) return fail(parsed);
    const { head, framing: f } = parsed;
    closeAfter = head.close;
    body = f.body;
    remaining = f.length;
    chunk = Chunk.Size;
    phase = 'body';
    handler.onHead(head);
    if (body === Body.None) endMessage();
    return end + 4;
  };

  /** Hands body bytes to the handler; slices of the carry are copied, since it is reused. */
  const emit = (buf: Buffer, from: number, to: number): void => {
    if (from === to) return;
    if (fromStore) handler.onBody(Buffer.from(buf.subarray(from, to)));
    else handler.onBody(from === 0 && to === buf.length ? buf : buf.subarray(from, to));
  };

  /** Consumes body bytes from buf[at..]; returns the next offset, -1 for more, or an error. */
  const readBody = (buf: Buffer, at: number): number | ShadowtapError => {
    if (body === Body.Length) {
      const take = Math.min(remaining, buf.length - at);
      emit(buf, at, at + take);
      remaining -= take;
      if (remaining === 0) endMessage();
      return at + take;
    }
    while (at < buf.length) {
      switch (chunk) {
        case Chunk.Size: {
          const eol = buf.indexOf(CRLF_BYTES, at + scanFrom);
          scanFrom = 0;
          if (eol < 0) {
            if (buf.length - at > MAX_CHUNK_LINE) return fail(ERR_HTTP_MALFORMED('chunk-size line too long'));
            return carry(buf, at);
          }
          if (eol - at > MAX_CHUNK_LINE) return fail(ERR_HTTP_MALFORMED('chunk-size line too long'));
          const sm = HEX_SIZE.exec(buf.toString('latin1', at, eol));
          if (!sm || sm[1]!.length > MAX_HEX_DIGITS) return fail(ERR_HTTP_MALFORMED('invalid chunk size'));
          remaining = parseInt(sm[1]!, 16);
          at = eol + 2;
          chunk = remaining === 0 ? Chunk.Trailer : Chunk.Data;
          break;
        }
        case Chunk.Data: {
          const take = Math.min(remaining, buf.length - at);
          emit(buf, at, at + take);
          remaining -= take;
          at += take;
          if (remaining === 0) chunk = Chunk.DataEnd;
          break;
        }
        case Chunk.DataEnd: {
          if (buf.length - at < 2) return carry(buf, at);
          if (buf.readUInt16LE(at) !== CRLF) return fail(ERR_HTTP_MALFORMED('chunk data not followed by CRLF'));
          at += 2;
          chunk = Chunk.Size;
          break;
        }
        case Chunk.Trailer: {
          // Trailer fields are checked and dropped: the capture analyses the body, and a
          // proxy mirroring a request does not forward trailers it would have to buffer.
          if (buf.length - at < 2) return carry(buf, at);
          if (buf.readUInt16LE(at) === CRLF) {
            endMessage();
            return at + 2;
          }
          const end = sectionEnd(buf, at);
          if (end < 0) {
            if (buf.length - at > maxHead) return fail(ERR_HTTP_HEADER_OVERFLOW(maxHead));
            return carry(buf, at);
          }
          if (end - at > maxHead) return fail(ERR_HTTP_HEADER_OVERFLOW(maxHead));
          for (const line of buf.toString('latin1', at, end).split('\r\n')) {
            const field = fieldLine(line);
            if (typeof field === 'string') return fail(ERR_HTTP_MALFORMED(`trailer: ${field}`));
          }
          endMessage();
          return end + 4;
        }
      }
    }
    return at;
  };

  return {
    phase: () => phase,
    execute(input) {
      if (phase === 'done') return undefined;
      let buf = input;
      fromStore = false;
      if (storeLen > 0) {
        const need = storeLen + input.length;
        if (need > store!.length) {
          const grown = Buffer.allocUnsafe(Math.max(need, 2 * store!.length));
          store!.copy(grown, 0, 0, storeLen);
          store = grown;
        }
        input.copy(store!, storeLen);
        buf = store!.subarray(0, need);
        storeLen = 0;
        fromStore = true;
      }
      let at = 0;
      while (at < buf.length) {
        const next = phase === 'body' ? readBody(buf, at) : readHead(buf, at);
        if (typeof next !== 'number') return next;
        if (next < 0) return undefined;
        at = next;
        if ((phase as Http1Phase) === 'done') break;
      }
      // Everything in the carry was consumed: drop it rather than keep a large buffer alive.
      if (fromStore && storeLen === 0) store = undefined;
      return undefined;
    },
  };
}
