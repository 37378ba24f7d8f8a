import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';
import { Duplex, type Readable } from 'node:stream';
import type { Config } from '../config/config.js';
import type { Logger } from '../core/logger.js';
import type { CoreMetrics } from '../core/metrics.js';
import type { CapturedExchange, HeaderList } from '../core/model.js';
import type { Pipeline } from '../core/pipeline.js';
import { clientAddress, stripShadowSuffix } from './client-address.js';

/** Bound ports of the shadow listener. */
export interface ShadowPorts {
  /** The shared port (shadow.port): HTTP/1.1 and h2c prior knowledge, told apart by peeking. */
  shared: number;
  /** The dedicated h2c port (shadow.h2cPort), or undefined when disabled. */
  h2c: number | undefined;
}

/**
 * The shadow cluster endpoint: HTTP/1.1 and h2c (prior knowledge) on one shared port, and
 * optionally h2c only on a dedicated port. Both feed the same request handler, counters,
 * connection budget and idle timeouts.
 */
export interface ShadowListener {
  /** Starts listening on every configured port; resolves with the bound ports. */
  start(): Promise<ShadowPorts>;
  /** Stops accepting on both ports, lets in-flight requests finish within timeoutMs, then destroys sockets. */
  close(timeoutMs: number): Promise<void>;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

/** Header list from Node's rawHeaders: names lower-cased, order and duplicates kept, pseudo-headers dropped. */
function headerList(raw: string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.charCodeAt(0) !== 58 /* ':' */) out.push([name, raw[i + 1]!]);
  }
  return out;
}

/**
 * Node's HTTP/2 session reads from the socket's native handle, so bytes already read into
 * JS land cannot be unshifted back for it. h2c connections on the shared port therefore get
 * a Duplex that replays the peeked preface and then forwards the socket, with back-pressure
 * both ways. Every byte then crosses a JSStreamSocket on the main thread, which is why the
 * dedicated h2c port (no peek, native socket) is the fast path.
 */
function replayingDuplex(socket: Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  duplex.push(head);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  // The client-address fallback reads remoteAddress from the request's socket.
  Object.defineProperty(duplex, 'remoteAddress', { get: () => socket.remoteAddress });
  return duplex;
}

export function createShadowListener(opts: {
  config: Config['shadow'];
  maxBodyBytes: number;
  pipeline: Pipeline;
  metrics: CoreMetrics;
  logger: Logger;
  /** Readiness reported to proxy health checks (see respond()). */
  ready?: () => boolean;
}): ShadowListener {
  const { config, maxBodyBytes, pipeline, metrics, logger } = opts;
  const ready = opts.ready ?? (() => true);
  const sockets = new Set<Socket>();
  // HTTP/1.1 sockets whose current request has been handed to onRequest but not finished.
  // A parse error on such a socket (a body cut short: HPE_INVALID_EOF_STATE, a bad chunk, a
  // body timeout) is that request's own ending, already counted by its finish(): counting a
  // rejection too would break received = analyzed + shed + rejected.
  const midRequest = new WeakSet<Socket>();

  const reject = (reason: string): void => {
    metrics.received.inc({ source: 'mirror' });
    metrics.rejected.inc({ reason });
  };

  /** What the capture needs to know about a request, whichever protocol brought it. */
  interface RequestHead {
    rawHeaders: string[];
    method: string;
    target: string;
    httpVersion: string;
    authority: string;
    requestId: string | undefined;
    remoteAddress: string | undefined;
    /** A proxy health check (see answer below). */
    probe: boolean;
  }

  /**
   * Reads one request body from `body` (an HTTP/1.1 IncomingMessage or an HTTP/2 stream),
   * answers through `answer`, and submits the exchange once the body ended or broke off.
   */
  const capture = (body: Readable, head: RequestHead, answer: (status: number) => void, done?: () => void): void => {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    let kept = 0;
    let seen = 0;
    let responded = false;
    let finished = false;

    // Envoy ignores the shadow response, but its connection pool waits for it: answer as
    // soon as the body is in or the analysis cap is reached, and keep draining past the cap
    // so that a streamed mirror (Envoy ≥ 1.33) never sees back-pressure from us.
    //
    // A proxy health check (gen-envoy marks them with x-shadowtap-health-check on /readyz)
    // gets 200 or 503 so the proxy stops mirroring to a replica that is shutting down. It is
    // still analysed like any request: the header is easy to forge, so it must not be a way
    // to slip a payload past detection.
    const respond = (): void => {
      if (responded) return;
      responded = true;
      answer(head.probe ? (ready() ? 200 : 503) : config.responseStatus);
    };

    const finish = (complete: boolean): void => {
      if (finished) return;
      finished = true;
      done?.();
      const headers = headerList(head.rawHeaders);
      const id = randomUUID();
      const exchange: CapturedExchange = {
        id,
        requestId: head.requestId ?? id,
        source: 'mirror',
        receivedAt,
        clientIp: clientAddress(headers, head.remoteAddress, config.xffTrustedHops),
        host: stripShadowSuffix(head.authority),
        method: head.method,
        target: head.target,
        httpVersion: head.httpVersion,
        headers,
        body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, kept),
        bodyTruncated: seen > kept || !complete,
        bodyBytesSeen: seen,
      };
      // A client reset cancels Envoy's copy mid-body: analyse what arrived anyway.
      pipeline.submit(exchange);
    };

    body.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (kept < maxBodyBytes) {
        const take = Math.min(chunk.length, maxBodyBytes - kept);
        chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
        kept += take;
        if (kept >= maxBodyBytes) respond();
      }
    });
    body.on('end', () => {
      finish(true);
      respond();
    });
    body.on('close', () => finish(false));
    body.on('error', () => finish(false));
  };

  const isProbe = (health: unknown, target: string): boolean =>
    health !== undefined && target.split('?')[0] === '/readyz';

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const target = req.url ?? '/';
    midRequest.add(req.socket);
    capture(
      req,
      {
        rawHeaders: req.rawHeaders,
        method: req.method ?? 'GET',
        target,
        httpVersion: req.httpVersion,
        authority: req.headers.host ?? '',
        requestId: req.headers['x-request-id'] as string | undefined,
        remoteAddress: req.socket?.remoteAddress,
        probe: isProbe(req.headers['x-shadowtap-health-check'], target),
      },
      (status) => {
        res.writeHead(status);
        res.end();
      },
      () => midRequest.delete(req.socket),
    );
  };

  // HTTP/2 through the core 'stream' API rather than the request/response compatibility
  // layer, which builds two more objects and a header map per stream: h2c requests cost the
  // listener markedly more than HTTP/1.1 ones with it.
  const onStream = (
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    _flags: number,
    rawHeaders: string[],
  ): void => {
    const target = headers[':path'] ?? '/';
    capture(
      stream,
      {
        rawHeaders,
        method: headers[':method'] ?? 'GET',
        target,
        httpVersion: '2.0',
        authority: headers[':authority'] ?? headers.host ?? '',
        requestId: headers['x-request-id'] as string | undefined,
        remoteAddress: stream.session?.socket?.remoteAddress,
        probe: isProbe(headers['x-shadowtap-health-check'], target),
      },
      (status) => {
        if (!stream.destroyed && !stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
      },
    );
  };

  const h1 = http.createServer(
    {
      maxHeaderSize: config.maxHeaderBytes,
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: Math.min(config.requestTimeoutMs, 60000),
      keepAliveTimeout: config.idleTimeoutMs,
      // Reject what a strict parser rejects; the request is counted, never analysed half-parsed.
      insecureHTTPParser: false,
    },
    onRequest,
  );
  h1.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? 'HPE_UNKNOWN';
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      socket.destroy();
      return;
    }
    if (!midRequest.has(socket)) {
      reject(
        code === 'HPE_HEADER_OVERFLOW'
          ? 'header_overflow'
          : code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? 'timeout'
            : 'malformed',
      );
    }
    logger.debug({ code }, 'malformed HTTP request rejected');
    if (socket.writable) {
      const status =
        code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });

  const h2 = http2.createServer({
    maxSessionMemory: 32,
    settings: { maxConcurrentStreams: 1000, maxHeaderListSize: config.maxHeaderBytes },
  });
  h2.on('stream', onStream);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  h2.on('sessionError', () => reject('h2_session_error'));
  h2.setTimeout(config.idleTimeoutMs, (session?: unknown) => {
    (session as { destroy?: () => void } | undefined)?.destroy?.();
  });

  // One connection budget for both ports: shadow.maxConnections bounds the process's sockets
  // (file descriptors, session memory), so enabling the h2c port must not double it.
  const admit = (socket: Socket): boolean => {
    if (sockets.size >= config.maxConnections) {
      reject('max_connections');
      socket.destroy();
      return false;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    return true;
  };

  // The shared port serves both protocols: peek at the first bytes. h2c with prior knowledge
  // starts with the HTTP/2 connection preface; anything else is HTTP/1.x.
  const tcp = net.createServer({ noDelay: true }, (socket) => {
    if (!admit(socket)) return;
    socket.setTimeout(config.idleTimeoutMs, () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, H2_PREFACE.length);
      const isPrefix = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isPrefix && head.length < H2_PREFACE.length) return; // need more bytes to decide
      socket.off('data', onData);
      socket.setTimeout(0);
      if (isPrefix) {
        h2.emit('connection', replayingDuplex(socket, head));
      } else {
        // The HTTP/1 parser reads through the JS stream, so the peeked bytes can be unshifted.
        socket.pause();
        socket.unshift(head);
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  });

  // The dedicated h2c port: the accepted native socket goes straight to the HTTP/2 session
  // (no peek, no JS Duplex), so nghttp2 reads the kernel socket directly. A net server that
  // emits 'connection' costs about the same per connection as http2.Server listening itself
  // (within a few per cent, docs/architecture.md) and lets the shared budget run first.
  const h2cPort = config.h2cPort === false ? undefined : config.h2cPort;
  const h2cTcp =
    h2cPort === undefined
      ? undefined
      : net.createServer({ noDelay: true }, (socket) => {
          if (admit(socket)) h2.emit('connection', socket);
        });

  const listen = (server: net.Server, port: number, what: string): Promise<number> =>
    new Promise<number>((resolve, reject_) => {
      server.once('error', reject_);
      server.listen(port, config.host, () => {
        server.off('error', reject_);
        const bound = (server.address() as AddressInfo).port;
        logger.info({ host: config.host, port: bound }, `shadow listener listening (${what})`);
        resolve(bound);
      });
    });

  return {
    async start() {
      const shared = await listen(tcp, config.port, 'HTTP/1.1 + h2c');
      if (h2cTcp === undefined || h2cPort === undefined) return { shared, h2c: undefined };
      try {
        return { shared, h2c: await listen(h2cTcp, h2cPort, 'h2c only') };
      } catch (err) {
        tcp.close();
        throw err;
      }
    },
    close(timeoutMs) {
      return new Promise<void>((resolve) => {
        tcp.close();
        h2cTcp?.close();
        // Keep-alive sockets would hold close() forever: idle HTTP/1.1 connections are closed
        // now, HTTP/2 sessions get a GOAWAY (in-flight streams finish), and whatever is still
        // open at the deadline is destroyed.
        h1.closeIdleConnections();
        for (const session of sessions) session.close();
        const deadline = setTimeout(() => {
          if (sockets.size > 0) logger.warn({ sockets: sockets.size }, 'shadow listener: forcing sockets closed');
          for (const s of sockets) s.destroy();
          resolve();
        }, timeoutMs);
        const poll = setInterval(() => {
          h1.closeIdleConnections();
          if (sockets.size === 0) {
            clearInterval(poll);
            clearTimeout(deadline);
            resolve();
          }
        }, 20);
        deadline.unref();
        poll.unref();
      });
    },
  };
}
