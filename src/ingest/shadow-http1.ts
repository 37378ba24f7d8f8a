import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ShadowtapError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createHttp1Parser, type Http1Head } from './http1-parser.js';
import type { RequestCapture } from './request-capture.js';

/** What one HTTP/1.1 connection needs from the listener. */
export interface Http1Context {
  maxHeaderBytes: number;
  /** A request head must be complete this long after its first byte (Node's headersTimeout). */
  headersTimeoutMs: number;
  /** A whole request must be in this long after its first byte. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  idleTimeoutMs: number;
  /** Starts the capture of a parsed request; `answer` writes the status line when it is due. */
  begin(
    head: Http1Head,
    receivedAt: number,
    remoteAddress: string | undefined,
    answer: (status: number) => void,
  ): RequestCapture;
  /** Counts a request that never became an exchange (malformed, too large, too slow). */
  reject(reason: 'malformed' | 'header_overflow' | 'timeout'): void;
  logger: Logger;
}

/** A served connection, as the listener's timer sweep and close() see it. */
export interface Http1Connection {
  /** Applies the idle, headers and request timeouts; called periodically by the listener. */
  sweep(now: number): void;
  /** Shutdown: an idle connection closes now, a busy one after its current answer. */
  drain(): void;
}

// A client that pipelines without reading its answers stops being read once this much is
// waiting in the socket's write buffer: nothing on the connection grows without bound.
const WRITE_HIGH_WATER = 64 * 1024;

// Answers are built once per (status, connection header) and reused: a numeric key keeps
// the per-request lookup free of allocation.
const responseCache = new Map<number, Buffer>();

/** The whole answer, status line to empty line: shadow answers carry no body. */
function response(status: number, close: boolean, keepAlive10: boolean): Buffer {
  const key = status * 4 + (close ? 1 : keepAlive10 ? 2 : 0);
  let bytes = responseCache.get(key);
  if (bytes === undefined) {
    let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (status !== 204 && status !== 304) text += 'Content-Length: 0\r\n';
    if (close) text += 'Connection: close\r\n';
    else if (keepAlive10) text += 'Connection: keep-alive\r\n';
    bytes = Buffer.from(text + '\r\n', 'latin1');
    responseCache.set(key, bytes);
  }
  return bytes;
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

const REJECT_STATUS: Record<string, [number, 'malformed' | 'header_overflow']> = {
  ST_ERR_HTTP_HEADER_OVERFLOW: [431, 'header_overflow'],
  ST_ERR_HTTP_MALFORMED: [400, 'malformed'],
};

/**
 * Serves HTTP/1.1 on an accepted socket, starting with bytes the listener already read
 * (its protocol peek). Answers are written in request order; answers due while one read is
 * parsed (pipelining) leave in one write.
 */
export function serveHttp1(socket: Socket, first: Buffer, ctx: Http1Context): Http1Connection {
  // Read once: the getter asks the native handle each time.
  const remoteAddress = socket.remoteAddress;
  let capture: RequestCapture | undefined;
  let head: Http1Head | undefined;
  let startedAt = 0; // first byte of the current request
  let lastActive = Date.now();
  let draining = false;
  let ended = false;
  // The head timeout counted this connection's unfinished request already.
  let timedOut = false;
  // Answers produced while parsing one read, flushed together after it.
  let batch: Buffer[] | undefined;

  const write = (bytes: Buffer): void => {
    if (batch) batch.push(bytes);
    else if (ended) return;
    else socket.write(bytes);
  };

  // Ends the connection once what has been answered is written (after the current read's
  // batch, when one is being collected).
  const finishConnection = (): void => {
    if (ended) return;
    ended = true;
    if (!batch) socket.end();
  };

  const handler = {
    onHead(h: Http1Head): void {
      head = h;
      if (h.expectContinue) write(CONTINUE);
      // During shutdown the answer says Connection: close, so the proxy does not reuse a
      // connection that is about to end.
      capture = ctx.begin(h, startedAt, remoteAddress, (status) => {
        const close = h.close || draining;
        write(response(status, close, h.httpVersion === '1.0' && !close));
      });
    },
    onBody(chunk: Buffer): void {
      capture!.push(chunk);
    },
    onEnd(): void {
      const c = capture!;
      const h = head!;
      capture = undefined;
      head = undefined;
      // An unframeable body was skipped, not read: it is analysed as cut short, and the
      // answer is 400 before the connection closes (RFC 9112 §6.3).
      c.end(!h.unframed);
      if (!c.answered()) write(response(400, true, false));
      lastActive = Date.now();
      if (h.close || draining) finishConnection();
    },
  };

  const parser = createHttp1Parser(handler, { maxHeaderBytes: ctx.maxHeaderBytes });

  const fail = (err: ShadowtapError): void => {
    const [status, reason] = REJECT_STATUS[err.code] ?? [400, 'malformed'];
    ctx.logger.debug({ code: err.code }, 'malformed HTTP request rejected');
    if (capture) {
      // The body broke off: this request was received and is analysed with what arrived.
      const c = capture;
      capture = undefined;
      c.end(false);
      if (!c.answered()) write(response(status, true, false));
    } else {
      ctx.reject(reason);
      write(response(status, true, false));
    }
    finishConnection();
  };

  const onData = (chunk: Buffer): void => {
    if (parser.phase() === 'idle') startedAt = Date.now();
    batch = [];
    const err = parser.execute(chunk);
    if (err) fail(err);
    const out = batch;
    batch = undefined;
    if (out.length === 1) socket.write(out[0]!);
    else if (out.length > 1) socket.write(Buffer.concat(out));
    if (ended) {
      socket.end();
      return;
    }
    if (socket.writableLength > WRITE_HIGH_WATER) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  };

  socket.on('data', onData);
  socket.on('close', () => {
    ended = true;
    if (capture) {
      // A client reset cancels Envoy's copy mid-body: analyse what arrived anyway.
      const c = capture;
      capture = undefined;
      c.end(false);
    } else if (parser.phase() === 'head' && !timedOut) {
      // The connection ended inside a request head: a request that never became one.
      ctx.reject('malformed');
    }
  });
  onData(first);

  return {
    sweep(now) {
      if (ended) return;
      const phase = parser.phase();
      if (phase === 'idle') {
        if (now - lastActive > ctx.idleTimeoutMs) socket.destroy();
      } else if (phase === 'head') {
        if (now - startedAt > ctx.headersTimeoutMs) {
          timedOut = true;
          ended = true;
          ctx.reject('timeout');
          socket.end(response(408, true, false));
        }
      } else if (phase === 'body' && capture) {
        if (now - startedAt > ctx.requestTimeoutMs) {
          const c = capture;
          capture = undefined;
          c.end(false);
          if (!c.answered()) write(response(408, true, false));
          finishConnection();
        }
      }
    },
    drain() {
      draining = true;
      if (parser.phase() === 'idle') finishConnection();
    },
  };
}
