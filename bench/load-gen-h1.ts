/**
 * HTTP/1.1 transport of the load generator, on raw `net` sockets: every request of the mix
 * is serialized once into a Buffer (Content-Length bodies) and written as is; one request in
 * flight per keep-alive connection; responses parsed just enough to find their end (status
 * line, Content-Length, chunked, bodiless statuses, `Connection: close`, or read-until-close).
 */
import net from 'node:net';
import {
  drive,
  reopenLater,
  settle,
  type LoadResult,
  type LoadSpec,
  type Transport,
  type TransportHooks,
} from './load-gen-core.js';
import type { MixRequest } from './load-mix.js';

/** Serializes one request of the mix, bytes ready for the socket. */
export function serializeH1(r: MixRequest, host: string): Buffer {
  const body = r.body === undefined ? undefined : Buffer.from(r.body);
  let head = `${r.method} ${r.path} HTTP/1.1\r\n`;
  if (!('host' in r.headers)) head += `host: ${host}\r\n`;
  for (const [k, v] of Object.entries(r.headers)) head += `${k}: ${v}\r\n`;
  if (body) head += `content-length: ${body.length}\r\n`;
  head += '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

const enum Phase {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailer,
  UntilClose,
}

/** A response head larger than this is a protocol error (the generator expects small ones). */
const MAX_HEAD = 64 * 1024;
const READ_BUFFER = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

interface Conn {
  socket: net.Socket;
  connected: boolean;
  busy: boolean;
  dead: boolean;
  sentAt: bigint;
  phase: Phase;
  /** Bytes left in the body (Length) or the current chunk (ChunkData, ChunkEnd). */
  remaining: number;
  status: number;
  closeAfter: boolean;
  /** Unparsed tail of the previous chunk (an incomplete head or line). */
  carry: Buffer | null;
  /** Responses completed on this connection (a connection that never got one backs off before reconnecting). */
  answered: number;
}

/** Reads status and framing from a response head; returns the phase that follows it. */
function parseHead(conn: Conn, head: string): Phase {
  const lines = head.split('\r\n');
  const statusLine = lines[0]!;
  const status = Number(statusLine.slice(9, 12));
  if (!statusLine.startsWith('HTTP/1.') || !(status >= 100 && status < 600)) throw new Error('bad status line');
  conn.status = status;
  let length = -1;
  let chunked = false;
  let close = statusLine.startsWith('HTTP/1.0');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'content-length') length = Number(line.slice(colon + 1).trim());
    else if (name === 'transfer-encoding') chunked = /chunked/i.test(line.slice(colon + 1));
    else if (name === 'connection') {
      const v = line.slice(colon + 1).toLowerCase();
      if (v.includes('close')) close = true;
      else if (v.includes('keep-alive')) close = false;
    }
  }
  conn.closeAfter = close;
  // 1xx: another head follows. 204/304: never a body.
  if (status < 200 || status === 204 || status === 304) return Phase.Head;
  if (chunked) return Phase.ChunkSize;
  if (length >= 0) {
    conn.remaining = length;
    return Phase.Length;
  }
  conn.closeAfter = true;
  return Phase.UntilClose;
}

/** Opens the connections and returns the transport. */
export function h1Transport(spec: LoadSpec, mix: readonly MixRequest[]) {
  const requests = mix.map((r) => serializeH1(r, spec.host));
  const address = spec.address ?? '127.0.0.1';
  return async (hooks: TransportHooks): Promise<Transport> => {
    // Per connection slot: the delay before reopening a connection that never answered.
    const backoff: number[] = [];
    const conns: Conn[] = [];
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER);
    // Idle connections, first in first out so the load spreads over all of them.
    let idle: Conn[] = [];
    let inFlight = 0;
    let closed = false;

    const complete = (conn: Conn): void => {
      conn.busy = false;
      conn.phase = Phase.Head;
      conn.answered++;
      inFlight--;
      hooks.response(conn.status, conn.sentAt);
      if (conn.closeAfter) {
        conn.socket.destroy();
        return;
      }
      idle.push(conn);
      hooks.idle();
    };

    const onData = (conn: Conn, data: Buffer): void => {
      let buf = data;
      if (conn.carry) {
        buf = Buffer.concat([conn.carry, data]);
        conn.carry = null;
      }
      let i = 0;
      while (i < buf.length && !conn.dead) {
        switch (conn.phase) {
          case Phase.Head: {
            if (!conn.busy) throw new Error('bytes without a request in flight');
            const end = buf.indexOf(CRLFCRLF, i);
            if (end < 0) {
              if (buf.length - i > MAX_HEAD) throw new Error('response head too large');
              conn.carry = Buffer.from(buf.subarray(i));
              return;
            }
            const phase = parseHead(conn, buf.toString('latin1', i, end));
            i = end + 4;
            if ((phase === Phase.Head && conn.status >= 200) || (phase === Phase.Length && conn.remaining === 0))
              complete(conn);
            else conn.phase = phase;
            break;
          }
          case Phase.Length: {
            const n = Math.min(conn.remaining, buf.length - i);
            i += n;
            conn.remaining -= n;
            if (conn.remaining === 0) {
              conn.phase = Phase.Head;
              complete(conn);
            }
            break;
          }
          case Phase.ChunkSize:
          case Phase.Trailer: {
            const eol = buf.indexOf(CRLF, i);
            if (eol < 0) {
              if (buf.length - i > MAX_HEAD) throw new Error('chunk line too long');
              conn.carry = Buffer.from(buf.subarray(i));
              return;
            }
            if (conn.phase === Phase.Trailer) {
              // An empty line ends the trailer section, and the response.
              if (eol === i) {
                conn.phase = Phase.Head;
                i = eol + 2;
                complete(conn);
              } else i = eol + 2;
              break;
            }
            const size = parseInt(buf.toString('latin1', i, eol).split(';')[0]!, 16);
            if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size');
            i = eol + 2;
            if (size === 0) conn.phase = Phase.Trailer;
            else {
              conn.phase = Phase.ChunkData;
              conn.remaining = size;
            }
            break;
          }
          case Phase.ChunkData: {
            const n = Math.min(conn.remaining, buf.length - i);
            i += n;
            conn.remaining -= n;
            if (conn.remaining === 0) {
              conn.phase = Phase.ChunkEnd;
              conn.remaining = 2;
            }
            break;
          }
          case Phase.ChunkEnd: {
            const n = Math.min(conn.remaining, buf.length - i);
            i += n;
            conn.remaining -= n;
            if (conn.remaining === 0) conn.phase = Phase.ChunkSize;
            break;
          }
          case Phase.UntilClose:
            i = buf.length;
            break;
        }
      }
    };

    const open = (slot: number, first: (() => void) | null): void => {
      // `onread` hands each read straight to the parser in one shared buffer, skipping the
      // Readable machinery and a Buffer per read; what must outlive a read is copied (carry).
      const socket = net.connect({
        port: spec.port,
        host: address,
        noDelay: true,
        onread: {
          buffer: readBuffer,
          callback: (n: number, buf: Uint8Array): boolean => {
            try {
              onData(conn, Buffer.from(buf.buffer, buf.byteOffset, n));
            } catch {
              socket.destroy();
            }
            return true;
          },
        },
      });
      const conn: Conn = {
        socket,
        connected: false,
        busy: false,
        dead: false,
        sentAt: 0n,
        phase: Phase.Head,
        remaining: 0,
        status: 0,
        closeAfter: false,
        carry: null,
        answered: 0,
      };
      conns[slot] = conn;
      socket.once('connect', () => {
        conn.connected = true;
        if (!first) hooks.reconnected();
        idle.push(conn);
        first?.();
        hooks.idle();
      });
      // 'close' follows every 'error'; the failure is counted there.
      socket.on('error', () => {});
      socket.once('close', () => {
        conn.dead = true;
        idle = idle.filter((c) => c !== conn);
        if (!conn.connected) hooks.connectFailed();
        if (conn.busy) {
          inFlight--;
          // No length and no chunking: the body ran until the server closed.
          if (conn.phase === Phase.UntilClose) {
            conn.busy = false;
            hooks.response(conn.status, conn.sentAt);
          } else hooks.failed(1);
        }
        first?.();
        if (closed || !hooks.running()) return;
        reopenLater(backoff, slot, conn.answered, () => {
          if (!closed && hooks.running()) open(slot, null);
        });
      });
    };

    await settle(
      Array.from({ length: spec.connections }, (_, slot) => new Promise<void>((resolve) => open(slot, resolve))),
    );

    return {
      trySend(mixIndex) {
        let conn = idle.shift();
        while (conn && (conn.dead || conn.busy)) conn = idle.shift();
        if (!conn) return false;
        conn.busy = true;
        conn.phase = Phase.Head;
        inFlight++;
        conn.sentAt = process.hrtime.bigint();
        conn.socket.write(requests[mixIndex]!);
        return true;
      },
      inFlight: () => inFlight,
      close() {
        closed = true;
        for (const c of conns) c?.socket.destroy();
      },
    };
  };
}

/** Runs one HTTP/1.1 load phase in this process. */
export function runH1(spec: LoadSpec, mix: readonly MixRequest[]): Promise<LoadResult> {
  return drive(spec, mix.length, h1Transport(spec, mix));
}
