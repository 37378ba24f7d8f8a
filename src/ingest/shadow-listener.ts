import http2 from 'node:http2';
import net, { type AddressInfo, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { Config } from '../config/config.js';
import type { Logger } from '../core/logger.js';
import type { CoreMetrics } from '../core/metrics.js';
import type { HeaderList } from '../core/model.js';
import type { Pipeline } from '../core/pipeline.js';
import { createCapture, isProbe, type CaptureContext, type RequestCapture } from './request-capture.js';
import { serveHttp1, type Http1Connection, type Http1Context } from './shadow-http1.js';

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

const kCapture = Symbol('shadowtap.capture');
const kPeer = Symbol('shadowtap.peer');
/** An h2c stream with its capture attached. */
type CapturedStream = http2.ServerHttp2Stream & { [kCapture]?: RequestCapture };
/** An h2c session with its peer address read once. */
type SessionWithPeer = http2.ServerHttp2Session & { [kPeer]?: string | undefined };

// respond() honours sendDate like response.sendDate (lib/internal/http2/core.js
// processHeaders), though @types/node lists only endStream and waitForTrailers.
const NO_DATE_END_STREAM = { endStream: true, sendDate: false } as http2.ServerStreamResponseOptions;

// Shared stream listeners (`this` is the stream): end() runs once, whichever comes first.
function onStreamData(this: CapturedStream, chunk: Buffer): void {
  this[kCapture]?.push(chunk);
}
function onStreamEnd(this: CapturedStream): void {
  this[kCapture]?.end(true);
}
function onStreamBreak(this: CapturedStream): void {
  this[kCapture]?.end(false);
}

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
  return duplex;
}

export function createShadowListener(opts: {
  config: Config['shadow'];
  maxBodyBytes: number;
  pipeline: Pipeline;
  metrics: CoreMetrics;
  logger: Logger;
  /** Readiness reported to proxy health checks (see request-capture.ts). */
  ready?: () => boolean;
}): ShadowListener {
  const { config, maxBodyBytes, pipeline, metrics, logger } = opts;
  const captureContext: CaptureContext = { config, maxBodyBytes, pipeline, ready: opts.ready ?? (() => true) };
  const sockets = new Set<Socket>();
  const h1Connections = new Set<Http1Connection>();

  const reject = (reason: string): void => {
    metrics.received.inc({ source: 'mirror' });
    metrics.rejected.inc({ reason });
  };

  const h1Context: Http1Context = {
    maxHeaderBytes: config.maxHeaderBytes,
    headersTimeoutMs: Math.min(config.requestTimeoutMs, 60000),
    requestTimeoutMs: config.requestTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    begin: (head, receivedAt, remoteAddress, answer) =>
      createCapture(
        captureContext,
        {
          headers: head.headers,
          method: head.method,
          target: head.target,
          httpVersion: head.httpVersion,
          authority: head.host,
          requestId: head.requestId,
          remoteAddress,
          probe: isProbe(head.healthCheck, head.target),
        },
        receivedAt,
        answer,
      ),
    reject,
    logger,
  };

  // HTTP/2 through the core 'stream' API rather than the request/response compatibility
  // layer, which builds two more objects and a header map per stream: h2c requests cost the
  // listener markedly more than HTTP/1.1 ones with it. Per stream, the capture rides on the
  // stream object and the four listeners are shared functions (no closures), the peer address
  // is read once per session (session.socket is a Proxy), and the answer carries no Date
  // header (the proxy discards shadow answers; building and HPACK-coding it was per-stream work).
  const onStream = (
    stream: CapturedStream,
    headers: http2.IncomingHttpHeaders,
    _flags: number,
    rawHeaders: string[],
  ): void => {
    const target = headers[':path'] ?? '/';
    stream[kCapture] = createCapture(
      captureContext,
      {
        headers: headerList(rawHeaders),
        method: headers[':method'] ?? 'GET',
        target,
        httpVersion: '2.0',
        authority: headers[':authority'] ?? headers.host ?? '',
        requestId: headers['x-request-id'] as string | undefined,
        remoteAddress: (stream.session as SessionWithPeer | undefined)?.[kPeer],
        probe: isProbe(headers['x-shadowtap-health-check'] !== undefined, target),
      },
      Date.now(),
      (status) => {
        if (!stream.destroyed && !stream.headersSent) {
          stream.respond({ ':status': status }, NO_DATE_END_STREAM);
        }
      },
    );
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    stream.on('close', onStreamBreak);
    stream.on('error', onStreamBreak);
  };

  const h2 = http2.createServer({
    maxSessionMemory: 32,
    settings: { maxConcurrentStreams: 1000, maxHeaderListSize: config.maxHeaderBytes },
  });
  h2.on('stream', onStream);
  const sessions = new Set<http2.ServerHttp2Session>();
  // Set only while the shared port hands a peeked h2c connection over (below).
  let handedOverPeer: string | undefined;
  h2.on('session', (session: SessionWithPeer) => {
    session[kPeer] = handedOverPeer ?? session.socket?.remoteAddress;
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
    // The idle timeout until the protocol is known; after that the HTTP/1.1 sweep or the
    // HTTP/2 session timeout owns it.
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
        // The session is created, and 'session' emitted, synchronously inside this emit. Its
        // socket is then Node's JS wrapper around the Duplex, which has no peer address: the
        // 'session' handler takes it from here.
        handedOverPeer = socket.remoteAddress;
        try {
          h2.emit('connection', replayingDuplex(socket, head));
        } finally {
          handedOverPeer = undefined;
        }
      } else {
        const connection = serveHttp1(socket, head, h1Context);
        h1Connections.add(connection);
        socket.on('close', () => h1Connections.delete(connection));
        if (closing) connection.drain();
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

  // One timer for every HTTP/1.1 connection's idle, headers and request timeouts, instead of
  // a timer re-armed on every read: a quarter of the shortest timeout, at most once a second.
  const sweepMs = Math.max(
    10,
    Math.min(1000, Math.floor(Math.min(h1Context.headersTimeoutMs, h1Context.idleTimeoutMs) / 4)),
  );
  let sweepTimer: NodeJS.Timeout | undefined;
  let closing = false;

  return {
    async start() {
      sweepTimer = setInterval(() => {
        const now = Date.now();
        for (const connection of h1Connections) connection.sweep(now);
      }, sweepMs);
      sweepTimer.unref();
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
        closing = true;
        tcp.close();
        h2cTcp?.close();
        // Keep-alive sockets would hold close() forever: idle HTTP/1.1 connections are closed
        // now and busy ones after their current answer, HTTP/2 sessions get a GOAWAY
        // (in-flight streams finish), and whatever is still open at the deadline is destroyed.
        for (const connection of h1Connections) connection.drain();
        for (const session of sessions) session.close();
        const deadline = setTimeout(() => {
          if (sockets.size > 0) logger.warn({ sockets: sockets.size }, 'shadow listener: forcing sockets closed');
          for (const s of sockets) s.destroy();
          clearInterval(sweepTimer);
          resolve();
        }, timeoutMs);
        const poll = setInterval(() => {
          if (sockets.size === 0) {
            clearInterval(sweepTimer);
            clearInterval(poll);
            clearTimeout(deadline);
            resolve();
          }
        }, 20);
        // The poll stays referenced: a caller awaiting close() must see it resolve even when
        // the listener's sockets were the last thing keeping the process alive.
        deadline.unref();
      });
    },
  };
}
