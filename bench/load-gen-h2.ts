/**
 * h2c (prior knowledge) transport of the load generator: HTTP/2 framing on raw `net`
 * sockets. Each request's header block is HPACK-encoded once (literals without indexing,
 * see load-gen-hpack.ts); sending one costs a 9-byte frame header with the stream id, the
 * shared block, and DATA frames cut to the server's frame size and flow-control windows.
 * Responses: HEADERS (decoded for `:status`, keeping the dynamic table in step), DATA
 * (credited back with WINDOW_UPDATEs), END_STREAM completes; RST_STREAM fails one stream,
 * GOAWAY retires the session, PING is answered, the server's SETTINGS are applied and acked.
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
import { createHpackDecoder, encodeRequestHeaders, type HpackDecoder, type HeaderList } from './load-gen-hpack.js';
import type { MixRequest } from './load-mix.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PUSH_PROMISE = 0x5;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;

const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

/** Our receive windows: large, so the server never waits for us; credited back at half. */
const STREAM_RECV_WINDOW = 1 << 20;
const CONN_RECV_WINDOW = 16 << 20;
const DEFAULT_WINDOW = 65535;
const MAX_STREAM_ID = 2 ** 31 - 1;

interface PreparedRequest {
  /** HPACK header block (shared by every stream that sends this request). */
  block: Buffer;
  body: Buffer | null;
}

/** The header list a request of the mix is sent with (`host` becomes `:authority`). */
export function h2RequestHeaders(r: MixRequest, host: string): HeaderList {
  const fields: HeaderList = [
    [':method', r.method],
    [':scheme', 'http'],
    [':authority', r.headers.host ?? host],
    [':path', r.path],
  ];
  for (const [k, v] of Object.entries(r.headers)) if (k !== 'host') fields.push([k.toLowerCase(), v]);
  if (r.body !== undefined) fields.push(['content-length', String(Buffer.byteLength(r.body))]);
  return fields;
}

interface Stream {
  id: number;
  sentAt: bigint;
  body: Buffer | null;
  /** Body bytes already sent. */
  offset: number;
  sendWindow: number;
  status: number;
  /** Response DATA bytes not yet credited back with a stream WINDOW_UPDATE. */
  recvUnacked: number;
  blocked: boolean;
}

interface Session {
  socket: net.Socket;
  ready: boolean;
  dead: boolean;
  /** GOAWAY received (or stream ids exhausted): no new streams. */
  retiring: boolean;
  streams: Map<number, Stream>;
  nextId: number;
  sendWindow: number;
  peerInitialWindow: number;
  peerMaxFrame: number;
  peerMaxStreams: number;
  recvUnacked: number;
  decoder: HpackDecoder;
  /** Streams waiting for flow-control window to send the rest of their body, in order. */
  blocked: Stream[];
  /** A header block split over CONTINUATION frames. */
  pendingBlock: Buffer[] | null;
  pendingStream: number;
  pendingEndStream: boolean;
  carry: Buffer | null;
  corked: boolean;
  answered: number;
}

function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const h = Buffer.allocUnsafe(9);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return h;
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(payload.length, type, flags, streamId), payload]);
}

function windowUpdate(streamId: number, increment: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(increment, 0);
  return frame(WINDOW_UPDATE, 0, streamId, p);
}

function settingsPayload(entries: Array<[number, number]>): Buffer {
  const p = Buffer.allocUnsafe(entries.length * 6);
  entries.forEach(([id, value], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(value, i * 6 + 2);
  });
  return p;
}

/** Opens the sessions and returns the transport. */
export function h2Transport(spec: LoadSpec, mix: readonly MixRequest[]) {
  const prepared: PreparedRequest[] = mix.map((r) => ({
    block: encodeRequestHeaders(h2RequestHeaders(r, spec.host)),
    body: r.body === undefined || r.body.length === 0 ? null : Buffer.from(r.body),
  }));
  for (const p of prepared)
    if (p.block.length > 16384) throw new Error('request header block larger than the minimum frame size');
  const address = spec.address ?? '127.0.0.1';
  const open = spec.rate !== undefined && spec.rate > 0;
  const perSession = spec.streamsPerSession ?? (open ? 100 : 16);

  return async (hooks: TransportHooks): Promise<Transport> => {
    // Per connection slot: the delay before reopening a connection that never answered.
    const backoff: number[] = [];
    const sessions: Session[] = [];
    const readBuffer = Buffer.allocUnsafe(256 * 1024);
    let inFlight = 0;
    let rr = 0;
    let closed = false;

    const write = (s: Session, buf: Buffer): void => {
      // Frames written in one tick leave in one writev.
      if (!s.corked) {
        s.corked = true;
        s.socket.cork();
        process.nextTick(() => {
          s.corked = false;
          s.socket.uncork();
        });
      }
      s.socket.write(buf);
    };

    const sendBody = (s: Session, st: Stream): void => {
      const body = st.body!;
      while (st.offset < body.length) {
        const n = Math.min(body.length - st.offset, s.sendWindow, st.sendWindow, s.peerMaxFrame);
        if (n <= 0) {
          if (!st.blocked) {
            st.blocked = true;
            s.blocked.push(st);
          }
          return;
        }
        const last = st.offset + n === body.length;
        write(s, frameHeader(n, DATA, last ? END_STREAM : 0, st.id));
        write(s, body.subarray(st.offset, st.offset + n));
        st.offset += n;
        s.sendWindow -= n;
        st.sendWindow -= n;
      }
    };

    const resumeBlocked = (s: Session): void => {
      const waiting = s.blocked;
      s.blocked = [];
      for (const st of waiting) {
        st.blocked = false;
        if (s.streams.get(st.id) === st) sendBody(s, st);
      }
    };

    const retireIfDone = (s: Session): void => {
      if (s.retiring && s.streams.size === 0) s.socket.destroy();
    };

    const endStream = (s: Session, st: Stream, ok: boolean): void => {
      s.streams.delete(st.id);
      inFlight--;
      if (ok) {
        s.answered++;
        hooks.response(st.status, st.sentAt);
        // The server answered before our body was all sent: tell it we will send no more.
        if (st.body && st.offset < st.body.length) {
          const code = Buffer.alloc(4);
          write(s, frame(RST_STREAM, 0, st.id, code));
        }
      } else hooks.failed(1);
      retireIfDone(s);
      hooks.idle();
    };

    const onHeaderBlock = (s: Session, streamId: number, block: Buffer, ended: boolean): void => {
      // Decoded even for a stream we no longer track: the dynamic table must stay in step.
      const headers = s.decoder.decode(block);
      const st = s.streams.get(streamId);
      if (!st) return;
      if (st.status === 0 || st.status < 200) {
        const status = Number(headers.find(([n]) => n === ':status')?.[1]);
        if (!(status >= 100 && status < 600)) throw new Error('response without a valid :status');
        st.status = status;
      }
      if (ended) {
        if (st.status < 200) throw new Error('stream ended on an informational response');
        endStream(s, st, true);
      }
    };

    const onFrame = (s: Session, type: number, flags: number, sid: number, p: Buffer): void => {
      if (s.pendingBlock && type !== CONTINUATION) throw new Error('expected CONTINUATION');
      switch (type) {
        case DATA: {
          s.recvUnacked += p.length;
          if (s.recvUnacked >= CONN_RECV_WINDOW / 2) {
            write(s, windowUpdate(0, s.recvUnacked));
            s.recvUnacked = 0;
          }
          const st = s.streams.get(sid);
          if (!st) return;
          if (flags & END_STREAM) endStream(s, st, true);
          else {
            st.recvUnacked += p.length;
            if (st.recvUnacked >= STREAM_RECV_WINDOW / 2) {
              write(s, windowUpdate(sid, st.recvUnacked));
              st.recvUnacked = 0;
            }
          }
          return;
        }
        case HEADERS: {
          let start = 0;
          let end = p.length;
          if (flags & PADDED) {
            start = 1;
            end -= p[0]!;
          }
          if (flags & PRIORITY) start += 5;
          if (start > end) throw new Error('bad HEADERS padding');
          const fragment = p.subarray(start, end);
          if (flags & END_HEADERS) onHeaderBlock(s, sid, fragment, (flags & END_STREAM) !== 0);
          else {
            s.pendingBlock = [Buffer.from(fragment)];
            s.pendingStream = sid;
            s.pendingEndStream = (flags & END_STREAM) !== 0;
          }
          return;
        }
        case CONTINUATION: {
          if (!s.pendingBlock || sid !== s.pendingStream) throw new Error('unexpected CONTINUATION');
          s.pendingBlock.push(Buffer.from(p));
          if (flags & END_HEADERS) {
            const block = Buffer.concat(s.pendingBlock);
            s.pendingBlock = null;
            onHeaderBlock(s, sid, block, s.pendingEndStream);
          }
          return;
        }
        case RST_STREAM: {
          const st = s.streams.get(sid);
          if (st) endStream(s, st, false);
          return;
        }
        case SETTINGS: {
          if (flags & ACK) return;
          for (let i = 0; i + 6 <= p.length; i += 6) {
            const id = p.readUInt16BE(i);
            const value = p.readUInt32BE(i + 2);
            if (id === 0x3) s.peerMaxStreams = value;
            else if (id === 0x4) {
              const delta = value - s.peerInitialWindow;
              s.peerInitialWindow = value;
              for (const st of s.streams.values()) st.sendWindow += delta;
            } else if (id === 0x5) s.peerMaxFrame = value;
          }
          write(s, frame(SETTINGS, ACK, 0, Buffer.alloc(0)));
          if (!s.ready) {
            s.ready = true;
            hooks.idle();
          }
          resumeBlocked(s);
          return;
        }
        case PING:
          if (!(flags & ACK)) write(s, frame(PING, ACK, 0, p));
          return;
        case GOAWAY: {
          const last = p.readUInt32BE(0) & 0x7fffffff;
          s.retiring = true;
          for (const st of [...s.streams.values()]) if (st.id > last) endStream(s, st, false);
          retireIfDone(s);
          return;
        }
        case WINDOW_UPDATE: {
          const inc = p.readUInt32BE(0) & 0x7fffffff;
          if (sid === 0) s.sendWindow += inc;
          else {
            const st = s.streams.get(sid);
            if (st) st.sendWindow += inc;
          }
          resumeBlocked(s);
          return;
        }
        case PUSH_PROMISE:
          throw new Error('PUSH_PROMISE although push is disabled');
        default:
          // PRIORITY and unknown frame types are ignored, as the protocol requires.
          return;
      }
    };

    const onData = (s: Session, data: Buffer): void => {
      let buf = data;
      if (s.carry) {
        buf = Buffer.concat([s.carry, data]);
        s.carry = null;
      }
      let i = 0;
      while (buf.length - i >= 9 && !s.dead) {
        const length = buf.readUIntBE(i, 3);
        if (buf.length - i < 9 + length) break;
        onFrame(s, buf[i + 3]!, buf[i + 4]!, buf.readUInt32BE(i + 5) & 0x7fffffff, buf.subarray(i + 9, i + 9 + length));
        i += 9 + length;
      }
      if (i < buf.length) s.carry = Buffer.from(buf.subarray(i));
    };

    const connect = (slot: number, first: (() => void) | null): void => {
      // `onread`: reads go straight to the frame parser in one shared buffer (see load-gen-h1.ts).
      const socket = net.connect({
        port: spec.port,
        host: address,
        noDelay: true,
        onread: {
          buffer: readBuffer,
          callback: (n: number, buf: Uint8Array): boolean => {
            const wasReady = s.ready;
            try {
              onData(s, Buffer.from(buf.buffer, buf.byteOffset, n));
            } catch {
              socket.destroy();
            }
            if (!wasReady && s.ready) first?.();
            return true;
          },
        },
      });
      const s: Session = {
        socket,
        ready: false,
        dead: false,
        retiring: false,
        streams: new Map(),
        nextId: 1,
        sendWindow: DEFAULT_WINDOW,
        peerInitialWindow: DEFAULT_WINDOW,
        peerMaxFrame: 16384,
        peerMaxStreams: Infinity,
        recvUnacked: 0,
        decoder: createHpackDecoder(),
        blocked: [],
        pendingBlock: null,
        pendingStream: 0,
        pendingEndStream: false,
        carry: null,
        corked: false,
        answered: 0,
      };
      sessions[slot] = s;
      let connected = false;
      socket.once('connect', () => {
        connected = true;
        if (!first) hooks.reconnected();
        write(s, PREFACE);
        // No push; a large initial stream window, and the connection window raised to match.
        write(
          s,
          frame(
            SETTINGS,
            0,
            0,
            settingsPayload([
              [0x2, 0],
              [0x4, STREAM_RECV_WINDOW],
            ]),
          ),
        );
        write(s, windowUpdate(0, CONN_RECV_WINDOW - DEFAULT_WINDOW));
      });
      socket.on('error', () => {});
      socket.once('close', () => {
        s.dead = true;
        if (!connected) hooks.connectFailed();
        const lost = s.streams.size;
        if (lost > 0) {
          inFlight -= lost;
          s.streams.clear();
          hooks.failed(lost);
        }
        first?.();
        if (closed || !hooks.running()) return;
        reopenLater(backoff, slot, s.answered, () => {
          if (!closed && hooks.running()) connect(slot, null);
        });
      });
    };

    await settle(
      Array.from({ length: spec.connections }, (_, slot) => new Promise<void>((resolve) => connect(slot, resolve))),
    );

    const send = (s: Session, mixIndex: number): void => {
      const r = prepared[mixIndex]!;
      const id = s.nextId;
      s.nextId += 2;
      if (s.nextId > MAX_STREAM_ID) s.retiring = true;
      const st: Stream = {
        id,
        sentAt: process.hrtime.bigint(),
        body: r.body,
        offset: 0,
        sendWindow: s.peerInitialWindow,
        status: 0,
        recvUnacked: 0,
        blocked: false,
      };
      s.streams.set(id, st);
      inFlight++;
      write(s, frameHeader(r.block.length, HEADERS, END_HEADERS | (r.body ? 0 : END_STREAM), id));
      write(s, r.block);
      if (r.body) sendBody(s, st);
    };

    return {
      trySend(mixIndex) {
        const n = sessions.length;
        for (let k = 0; k < n; k++) {
          const idx = (rr + k) % n;
          const s = sessions[idx]!;
          if (!s.ready || s.dead || s.retiring || s.streams.size >= Math.min(perSession, s.peerMaxStreams)) continue;
          rr = idx + 1;
          send(s, mixIndex);
          return true;
        }
        return false;
      },
      inFlight: () => inFlight,
      close() {
        closed = true;
        for (const s of sessions) s.socket.destroy();
      },
    };
  };
}

/** Runs one h2c load phase in this process. */
export function runH2(spec: LoadSpec, mix: readonly MixRequest[]): Promise<LoadResult> {
  return drive(spec, mix.length, h2Transport(spec, mix));
}
