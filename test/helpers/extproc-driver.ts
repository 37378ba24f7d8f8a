import { credentials, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import {
  loadExtProcProtos,
  type HeaderMap,
  type ImmediateResponse,
  type ProcessingRequest,
  type ProcessingResponse,
} from '../../src/ingest/extproc-protos.js';

/*
 * An Envoy-like ext_proc client built on the real envoy.service.ext_proc.v3 proto. It sends
 * one HTTP exchange as Envoy's ext_proc filter does for a given processing_mode:
 *
 *   request_headers → request_body (STREAMED: chunks; BUFFERED: one; BUFFERED_PARTIAL: up to
 *   the buffer limit) → request_trailers → response_headers → response_body →
 *   response_trailers, then half-close.
 *
 * Normal mode: each message must get its matching reply within message_timeout, or the
 * request fails like Envoy's does (HTTP 500, stream reset); an immediate_response ends the
 * request with that status. Streamed chunks are sent back to back and their replies awaited
 * in order. Observability mode: everything is sent without waiting (bodies streamed only, as
 * Envoy does), then the stream ends with EOF or, optionally, without EOF (cancel).
 */

export type HeaderMode = 'SEND' | 'SKIP';
export type BodyMode = 'NONE' | 'STREAMED' | 'BUFFERED' | 'BUFFERED_PARTIAL';

/** envoy.extensions.filters.http.ext_proc.v3.ProcessingMode, with Envoy's defaults. */
export interface ProcessingMode {
  request_header_mode: HeaderMode;
  response_header_mode: HeaderMode;
  request_body_mode: BodyMode;
  response_body_mode: BodyMode;
  request_trailer_mode: HeaderMode;
  response_trailer_mode: HeaderMode;
}

export const ENVOY_DEFAULT_MODE: ProcessingMode = Object.freeze({
  request_header_mode: 'SEND',
  response_header_mode: 'SEND',
  request_body_mode: 'NONE',
  response_body_mode: 'NONE',
  request_trailer_mode: 'SKIP',
  response_trailer_mode: 'SKIP',
});

type Headers = Array<[string, string]> | Record<string, string>;

/** One HTTP exchange to play through ext_proc. */
export interface HttpExchangeSpec {
  method?: string;
  path: string;
  authority?: string;
  scheme?: string;
  headers?: Headers;
  body?: string | Buffer;
  trailers?: Headers;
  /** The upstream's answer (omitted: the exchange stops after the request). */
  response?: { status: number; headers?: Headers; body?: string | Buffer; trailers?: Headers };
  /** Attributes sent under the `envoy.filters.http.ext_proc` namespace, e.g. { 'source.address': '1.2.3.4:5' }. */
  attributes?: Record<string, string>;
}

export interface DriverOptions {
  observability?: boolean;
  mode?: Partial<ProcessingMode>;
  /** STREAMED chunk size, bytes (Envoy forwards what arrives; tests pick it). Default 8 KiB. */
  chunkSize?: number;
  /** BUFFERED_PARTIAL buffer limit, bytes. Default 64 KiB. */
  bufferLimit?: number;
  /** Envoy's message_timeout, ms. Default 200. */
  messageTimeoutMs?: number;
  /** Observability mode: end the stream without EOF (cancel), as Envoy may. */
  endWithoutEof?: boolean;
  /** Send header values in `value` instead of `raw_value` (pre-1.27 peers). */
  useValueField?: boolean;
}

export interface DriveResult {
  outcome: 'completed' | 'immediate_response' | 'message_timeout' | 'protocol_error' | 'stream_error';
  /** What the HTTP client gets: the upstream status, the immediate_response status, or 500. */
  httpStatus: number;
  /** Kinds of the messages sent, in order. */
  sent: string[];
  replies: ProcessingResponse[];
  /** Reply kinds the driver expected, in order (normal mode). */
  expected: string[];
  /** Normal mode: time from each message's send to its reply, ms, in order. */
  latenciesMs: number[];
  immediate?: ImmediateResponse;
  /** The gRPC status the stream ended with (undefined after a cancel). */
  status?: { code: number; details: string };
  detail?: string;
}

type Client = {
  Process(): ClientDuplexStream<ProcessingRequest, ProcessingResponse>;
  waitForReady(deadline: number, callback: (err?: Error) => void): void;
  close(): void;
};

/**
 * Envoy's message_timeout runs on an established gRPC connection; a test's first stream
 * must not count the TCP + HTTP/2 handshake against it.
 */
function ready(client: Client): Promise<void> {
  return new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())),
  );
}

/** Opens `connections` distinct HTTP/2 connections to the server (one channel each). */
export function createExtProcClients(port: number, connections = 1): Client[] {
  const { Client } = loadExtProcProtos();
  return Array.from(
    { length: connections },
    (_, i) =>
      // A local subchannel pool per channel: otherwise grpc-js shares one connection.
      new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'shadowtap.conn': i,
      }) as Client,
  );
}

function headerMap(entries: Array<[string, string]>, useValue: boolean): HeaderMap {
  return {
    headers: entries.map(([key, v]) =>
      useValue
        ? { key, value: v, raw_value: Buffer.alloc(0) }
        : { key, value: '', raw_value: Buffer.from(v, 'latin1') },
    ),
  };
}

const list = (h: Headers | undefined): Array<[string, string]> =>
  !h ? [] : Array.isArray(h) ? h : Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]);

const bytes = (b: string | Buffer | undefined): Buffer =>
  b === undefined ? Buffer.alloc(0) : Buffer.isBuffer(b) ? b : Buffer.from(b);

/** The message sequence Envoy sends for this exchange and mode (normal or observability). */
export function envoyMessages(spec: HttpExchangeSpec, opts: DriverOptions = {}): ProcessingRequest[] {
  const mode: ProcessingMode = { ...ENVOY_DEFAULT_MODE, ...opts.mode };
  const observability = opts.observability ?? false;
  const chunk = opts.chunkSize ?? 8192;
  const useValue = opts.useValueField ?? false;
  const attributes = spec.attributes
    ? {
        'envoy.filters.http.ext_proc': {
          fields: Object.fromEntries(Object.entries(spec.attributes).map(([k, v]) => [k, { stringValue: v }])),
        },
      }
    : {};
  const out: ProcessingRequest[] = [];
  const push = (m: Partial<ProcessingRequest>, withAttributes = false): void => {
    // `request` names the oneof member set, as proto-loader's `oneofs: true` does on decode.
    const request = Object.keys(m)[0] as ProcessingRequest['request'];
    out.push({
      metadata_context: null,
      attributes: withAttributes ? attributes : {},
      observability_mode: observability,
      request,
      ...m,
    } as ProcessingRequest);
  };
  const side = (
    which: 'request' | 'response',
    pseudo: Array<[string, string]>,
    headers: Array<[string, string]>,
    body: Buffer,
    trailers: Array<[string, string]>,
  ): void => {
    const headerMode = which === 'request' ? mode.request_header_mode : mode.response_header_mode;
    // Observability mode supports streamed bodies only: any other body mode streams.
    let bodyMode = which === 'request' ? mode.request_body_mode : mode.response_body_mode;
    if (observability && bodyMode !== 'NONE') bodyMode = 'STREAMED';
    const trailerMode = which === 'request' ? mode.request_trailer_mode : mode.response_trailer_mode;
    const hasTrailers = trailers.length > 0;
    if (headerMode === 'SEND') {
      push(
        {
          [`${which}_headers`]: {
            headers: headerMap([...pseudo, ...headers], useValue),
            attributes: {},
            end_of_stream: body.length === 0 && !hasTrailers,
          },
        },
        which === 'request',
      );
    }
    if (body.length > 0 && bodyMode !== 'NONE') {
      if (bodyMode === 'STREAMED') {
        for (let off = 0; off < body.length; off += chunk) {
          const last = off + chunk >= body.length;
          push({ [`${which}_body`]: { body: body.subarray(off, off + chunk), end_of_stream: last && !hasTrailers } });
        }
      } else if (bodyMode === 'BUFFERED') {
        push({ [`${which}_body`]: { body, end_of_stream: !hasTrailers } });
      } else {
        const limit = opts.bufferLimit ?? 64 * 1024;
        const part = body.subarray(0, limit);
        push({ [`${which}_body`]: { body: part, end_of_stream: part.length === body.length && !hasTrailers } });
      }
    }
    if (hasTrailers && trailerMode === 'SEND')
      push({ [`${which}_trailers`]: { trailers: headerMap(trailers, useValue) } });
  };

  side(
    'request',
    [
      [':method', spec.method ?? (spec.body ? 'POST' : 'GET')],
      [':path', spec.path],
      [':authority', spec.authority ?? 'example.com'],
      [':scheme', spec.scheme ?? 'https'],
    ],
    list(spec.headers),
    bytes(spec.body),
    list(spec.trailers),
  );
  if (spec.response) {
    side(
      'response',
      [[':status', String(spec.response.status)]],
      list(spec.response.headers),
      bytes(spec.response.body),
      list(spec.response.trailers),
    );
  }
  return out;
}

/** Plays one exchange through one Process stream, as Envoy would. */
export async function driveExchange(
  client: Client,
  spec: HttpExchangeSpec,
  opts: DriverOptions = {},
): Promise<DriveResult> {
  await ready(client);
  const messages = envoyMessages(spec, opts);
  const observability = opts.observability ?? false;
  const timeoutMs = opts.messageTimeoutMs ?? 200;
  const call = client.Process();
  const result: DriveResult = {
    outcome: 'completed',
    httpStatus: spec.response?.status ?? 0,
    sent: [],
    replies: [],
    expected: [],
    latenciesMs: [],
  };
  const statusPromise = new Promise<{ code: number; details: string } | undefined>((resolve) => {
    call.on('status', (s: StatusObject) => resolve({ code: s.code, details: s.details }));
    call.on('error', () => undefined);
  });
  const send = (m: ProcessingRequest): void => {
    result.sent.push(m.request ?? 'empty');
    call.write(m);
  };

  if (observability) {
    // Envoy does not wait for anything, and ignores whatever comes back.
    call.on('data', (r: ProcessingResponse) => result.replies.push(r));
    if (opts.endWithoutEof) {
      // Reset once the last message is on the wire: a cancel issued while grpc-js still
      // holds the writes (before the HTTP/2 stream exists) never reaches the server.
      return new Promise<DriveResult>((resolve) => {
        messages.forEach((m, i) => {
          result.sent.push(m.request ?? 'empty');
          call.write(
            m,
            i === messages.length - 1 ? () => setImmediate(() => (call.cancel(), resolve(result))) : undefined,
          );
        });
      });
    }
    for (const m of messages) send(m);
    call.end();
    return statusPromise.then((status) => {
      result.status = status;
      if (status?.code !== 0) result.outcome = 'stream_error';
      return result;
    });
  }

  // Normal mode: replies arrive in order; each must come within message_timeout of its send.
  const waiting: Array<{
    kind: string;
    resolve: (r: ProcessingResponse | Error) => void;
    timer: NodeJS.Timeout;
    sentAt: number;
  }> = [];
  const early: ProcessingResponse[] = [];
  call.on('data', (r: ProcessingResponse) => {
    result.replies.push(r);
    const w = waiting.shift();
    if (!w) {
      early.push(r);
      return;
    }
    clearTimeout(w.timer);
    result.latenciesMs.push(performance.now() - w.sentAt);
    w.resolve(r);
  });
  const failAll = (err: Error): void => {
    for (const w of waiting.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(err);
    }
  };
  void statusPromise.then((s) => failAll(new Error(`stream ended: ${s?.code} ${s?.details}`)));
  const expect = (kind: string): Promise<ProcessingResponse | Error> =>
    new Promise((resolve) => {
      result.expected.push(kind);
      const e = early.shift();
      if (e) return resolve(e);
      const timer = setTimeout(() => {
        const i = waiting.findIndex((w) => w.timer === timer);
        if (i >= 0) waiting.splice(i, 1);
        resolve(new Error(`no reply to ${kind} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.push({ kind, resolve, timer, sentAt: performance.now() });
    });

  return (async (): Promise<DriveResult> => {
    let i = 0;
    while (i < messages.length) {
      // A run of streamed body chunks goes out back to back (Envoy does not wait between them).
      const batch = [messages[i]!];
      const isBody = (m: ProcessingRequest): boolean => m.request === 'request_body' || m.request === 'response_body';
      if (isBody(messages[i]!))
        while (i + batch.length < messages.length && messages[i + batch.length]!.request === messages[i]!.request)
          batch.push(messages[i + batch.length]!);
      i += batch.length;
      const pending = batch.map((m) => {
        send(m);
        return expect(m.request!);
      });
      for (const [j, p] of pending.entries()) {
        const r = await p;
        const kind = batch[j]!.request!;
        if (r instanceof Error) {
          result.outcome = /within/.test(r.message) ? 'message_timeout' : 'stream_error';
          result.detail = r.message;
          result.httpStatus = 500;
          call.cancel();
          result.status = await Promise.race([
            statusPromise,
            new Promise<undefined>((res) => setTimeout(() => res(undefined), 50)),
          ]);
          return result;
        }
        if (r.response === 'immediate_response') {
          result.outcome = 'immediate_response';
          result.immediate = r.immediate_response!;
          result.httpStatus =
            Number((r.immediate_response!.status as { code: number | string }).code) ||
            statusCodeOf(r.immediate_response!);
          call.cancel();
          return result;
        }
        if (r.response !== kind) {
          result.outcome = 'protocol_error';
          result.detail = `expected a ${kind} reply, got ${r.response}`;
          result.httpStatus = 500;
          call.cancel();
          return result;
        }
      }
    }
    call.end();
    result.status = await statusPromise;
    return result;
  })();
}

/** type.v3.StatusCode names (enums: String) → numbers, for the codes tests use. */
const STATUS_NAMES: Readonly<Record<string, number>> = {
  Forbidden: 403,
  Unauthorized: 401,
  BadRequest: 400,
  TooManyRequests: 429,
  ServiceUnavailable: 503,
};

function statusCodeOf(ir: ImmediateResponse): number {
  return STATUS_NAMES[String(ir.status.code)] ?? 0;
}

/** A raw stream for protocol tests: send any messages, read the status. */
export function openRawStream(client: Client) {
  const call = client.Process();
  const replies: ProcessingResponse[] = [];
  call.on('data', (r: ProcessingResponse) => replies.push(r));
  const status = new Promise<{ code: number; details: string }>((resolve) => {
    call.on('status', (s: StatusObject) => resolve({ code: s.code, details: s.details }));
    call.on('error', () => undefined);
  });
  return {
    call,
    replies,
    status,
    send(m: Partial<ProcessingRequest>): void {
      const request = Object.keys(m).find((k) => /_(?:headers|body|trailers)$/.test(k)) as ProcessingRequest['request'];
      call.write({
        metadata_context: null,
        attributes: {},
        observability_mode: false,
        request,
        ...m,
      } as ProcessingRequest);
    },
    end(): void {
      call.end();
    },
  };
}

/** Header value of an immediate_response's header mutation. */
export function immediateHeader(ir: ImmediateResponse, name: string): string | undefined {
  const h = ir.headers?.set_headers.find((o) => o.header.key === name)?.header;
  if (!h) return undefined;
  const raw = (h as { raw_value?: Buffer; value?: string }).raw_value;
  return raw && raw.length > 0 ? raw.toString('latin1') : (h as { value?: string }).value;
}
