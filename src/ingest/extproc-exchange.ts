import { randomUUID } from 'node:crypto';
import { ERR_EXTPROC_MALFORMED, ERR_EXTPROC_OUT_OF_ORDER, type ShadowtapError } from '../core/errors.js';
import type { CapturedExchange, CapturedResponse, HeaderList } from '../core/model.js';
import { clientAddress, normalizeIp, stripShadowSuffix } from './client-address.js';
import type { HeaderMap, ProcessingRequest, ProcessingRequestKind, Struct, StructValue } from './extproc-protos.js';

/*
 * One ext_proc stream = one HTTP exchange. The assembler checks each ProcessingRequest
 * against Envoy's message order and folds it into the exchange: headers from `raw_value`
 * bytes (or `value` from older peers), pseudo-headers into method/target/authority/status,
 * body chunks appended up to the caps (bytes past a cap are counted, not kept), trailers
 * appended to their header list (they are attacker-controlled too), attributes read for
 * the client address, the request id and the protocol.
 */

/** Caps and settings of one assembler. */
export interface AssemblerLimits {
  maxRequestBodyBytes: number;
  maxResponseBodyBytes: number;
  /** X-Forwarded-For entries to skip from the right (as for mirrored traffic). */
  xffTrustedHops: number;
}

/** A message that breaks the protocol: the stream is closed with `error`, `reason` labels the counter. */
export interface ProtocolViolation {
  reason: 'empty_request' | 'out_of_order' | 'missing_pseudo_header' | 'bad_status';
  error: ShadowtapError;
}

/** What a message meant for the exchange. */
export interface AcceptResult {
  kind: ProcessingRequestKind;
  /** True when this message ended the request (headers with end_of_stream, last body chunk, trailers). */
  requestEnded: boolean;
  /** True when this message ended the response: the exchange is complete. */
  responseEnded: boolean;
}

export interface ExchangeAssembler {
  /** Folds one message in, or says why it breaks the protocol (the assembler is then unchanged). */
  accept(msg: ProcessingRequest): AcceptResult | ProtocolViolation;
  /** True once request headers arrived (an exchange exists). */
  readonly started: boolean;
  /** True once the request ended (no more request body). */
  readonly requestEnded: boolean;
  /** The exchange so far (request, and the response when its headers arrived). */
  build(): CapturedExchange;
  /** Host (no -shadow suffix) and path without the query, for per-route policies. */
  route(): { host: string; path: string };
}

/** Attribute value as a plain JS value (strings, numbers, booleans, nested objects). */
function plain(v: StructValue | undefined): unknown {
  if (!v) return undefined;
  // proto-loader names the set member in `kind` (oneofs: true); objects built in-process may not.
  const kind =
    v.kind ??
    (['stringValue', 'numberValue', 'boolValue', 'structValue', 'listValue'] as const).find((k) => v[k] !== undefined);
  switch (kind) {
    case 'stringValue':
      return v.stringValue;
    case 'numberValue':
      return v.numberValue;
    case 'boolValue':
      return v.boolValue;
    case 'structValue':
      return Object.fromEntries(Object.entries(v.structValue?.fields ?? {}).map(([k, x]) => [k, plain(x)]));
    case 'listValue':
      return (v.listValue?.values ?? []).map(plain);
    default:
      return null;
  }
}

/**
 * Envoy puts attributes under the filter's namespace (`envoy.filters.http.ext_proc`), keyed
 * by attribute name (`source.address`, `request.id`…). Namespaces are flattened: attribute
 * names are globally unique in Envoy's vocabulary.
 */
function collectAttributes(into: Map<string, unknown>, attributes: Record<string, Struct> | undefined): void {
  for (const ns of Object.values(attributes ?? {})) {
    for (const [name, value] of Object.entries(ns?.fields ?? {})) into.set(name, plain(value));
  }
}

/** `10.0.0.1:5678`, `[2001:db8::1]:5678` or a bare address → the address. */
export function addressIp(address: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (v6) return normalizeIp(v6[1]!);
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(address);
  return normalizeIp(v4 ? v4[1]! : address);
}

interface Split {
  pseudo: Map<string, string>;
  headers: HeaderList;
}

/** Header value bytes: Envoy sends `raw_value`; `value` is the pre-1.27 field. Bytes map 1:1 (latin1), as Node's HTTP parser does. */
function splitHeaders(map: HeaderMap | null | undefined): Split {
  const pseudo = new Map<string, string>();
  const headers: HeaderList = [];
  for (const h of map?.headers ?? []) {
    const name = (h.key ?? '').toLowerCase();
    const value = h.raw_value && h.raw_value.length > 0 ? h.raw_value.toString('latin1') : (h.value ?? '');
    if (name.charCodeAt(0) === 58 /* ':' */) pseudo.set(name, value);
    else if (name !== '') headers.push([name, value]);
  }
  return { pseudo, headers };
}

interface BodyBuffer {
  chunks: Buffer[];
  kept: number;
  seen: number;
}

function append(buf: BodyBuffer, chunk: Buffer, cap: number): void {
  buf.seen += chunk.length;
  if (buf.kept >= cap || chunk.length === 0) return;
  const take = Math.min(chunk.length, cap - buf.kept);
  // Copy: the chunk is a view into grpc-js's receive buffer, which must not be pinned.
  buf.chunks.push(Buffer.from(chunk.subarray(0, take)));
  buf.kept += take;
}

function concat(buf: BodyBuffer): Uint8Array {
  return buf.chunks.length === 1 ? buf.chunks[0]! : Buffer.concat(buf.chunks, buf.kept);
}

export function createExchangeAssembler(limits: AssemblerLimits): ExchangeAssembler {
  const id = randomUUID();
  const attributes = new Map<string, unknown>();
  let receivedAt = 0;
  let method = '';
  let target = '';
  let authority = '';
  let requestHeaders: HeaderList = [];
  const reqBody: BodyBuffer = { chunks: [], kept: 0, seen: 0 };
  const respBody: BodyBuffer = { chunks: [], kept: 0, seen: 0 };
  let status = 0;
  let responseHeaders: HeaderList = [];
  // Order state, one flag per milestone of Envoy's documented sequence.
  let reqHeaders = false;
  let reqHeadersEos = false;
  let reqBodyEnded = false;
  let reqTrailers = false;
  let respHeaders = false;
  let respHeadersEos = false;
  let respBodyEnded = false;
  let respTrailers = false;

  const outOfOrder = (why: string): ProtocolViolation => ({
    reason: 'out_of_order',
    error: ERR_EXTPROC_OUT_OF_ORDER(why),
  });
  const respEnded = (): boolean => respHeadersEos || respBodyEnded || respTrailers;

  const accept = (msg: ProcessingRequest): AcceptResult | ProtocolViolation => {
    const kind = msg.request;
    if (!kind)
      return {
        reason: 'empty_request',
        error: ERR_EXTPROC_MALFORMED('ProcessingRequest has no request set (empty oneof)'),
      };
    if (respEnded()) return outOfOrder(`${kind} after the response ended`);
    switch (kind) {
      case 'request_headers': {
        if (reqHeaders) return outOfOrder('request_headers received twice');
        const h = msg.request_headers!;
        const { pseudo, headers } = splitHeaders(h.headers);
        const m = pseudo.get(':method') ?? '';
        const path = pseudo.get(':path') ?? '';
        // CONNECT has no :path (RFC 9113 §8.5); everything else needs both.
        if (m === '' || (path === '' && m !== 'CONNECT')) {
          return {
            reason: 'missing_pseudo_header',
            error: ERR_EXTPROC_MALFORMED('request_headers without :method or :path'),
          };
        }
        reqHeaders = true;
        reqHeadersEos = h.end_of_stream;
        reqBodyEnded = h.end_of_stream;
        receivedAt = Date.now();
        method = m;
        authority = pseudo.get(':authority') ?? headers.find(([n]) => n === 'host')?.[1] ?? '';
        target = path === '' ? authority : path;
        requestHeaders = headers;
        collectAttributes(attributes, msg.attributes);
        collectAttributes(attributes, h.attributes);
        return { kind, requestEnded: h.end_of_stream, responseEnded: false };
      }
      case 'request_body': {
        if (!reqHeaders) return outOfOrder('request_body before request_headers');
        if (reqTrailers) return outOfOrder('request_body after request_trailers');
        if (reqBodyEnded) return outOfOrder('request_body after the request body ended (end_of_stream)');
        const b = msg.request_body!;
        append(reqBody, b.body, limits.maxRequestBodyBytes);
        reqBodyEnded = b.end_of_stream;
        return { kind, requestEnded: b.end_of_stream, responseEnded: false };
      }
      case 'request_trailers': {
        if (!reqHeaders) return outOfOrder('request_trailers before request_headers');
        if (reqTrailers) return outOfOrder('request_trailers received twice');
        if (reqHeadersEos) return outOfOrder('request_trailers after request_headers with end_of_stream');
        reqTrailers = true;
        reqBodyEnded = true;
        requestHeaders = requestHeaders.concat(splitHeaders(msg.request_trailers!.trailers).headers);
        return { kind, requestEnded: true, responseEnded: false };
      }
      case 'response_headers': {
        if (!reqHeaders) return outOfOrder('response_headers before request_headers');
        if (respHeaders) return outOfOrder('response_headers received twice');
        const h = msg.response_headers!;
        const { pseudo, headers } = splitHeaders(h.headers);
        const raw = pseudo.get(':status');
        if (raw === undefined)
          return { reason: 'missing_pseudo_header', error: ERR_EXTPROC_MALFORMED('response_headers without :status') };
        const code = Number(raw);
        if (!Number.isInteger(code) || code < 100 || code > 599) {
          return {
            reason: 'bad_status',
            error: ERR_EXTPROC_MALFORMED(`response :status ${JSON.stringify(raw.slice(0, 16))} is not an HTTP status`),
          };
        }
        respHeaders = true;
        respHeadersEos = h.end_of_stream;
        status = code;
        responseHeaders = headers;
        collectAttributes(attributes, msg.attributes);
        collectAttributes(attributes, h.attributes);
        return { kind, requestEnded: false, responseEnded: h.end_of_stream };
      }
      case 'response_body': {
        if (!respHeaders) return outOfOrder('response_body before response_headers');
        const b = msg.response_body!;
        append(respBody, b.body, limits.maxResponseBodyBytes);
        respBodyEnded = b.end_of_stream;
        return { kind, requestEnded: false, responseEnded: b.end_of_stream };
      }
      case 'response_trailers': {
        if (!respHeaders) return outOfOrder('response_trailers before response_headers');
        respTrailers = true;
        responseHeaders = responseHeaders.concat(splitHeaders(msg.response_trailers!.trailers).headers);
        return { kind, requestEnded: false, responseEnded: true };
      }
      default:
        return { reason: 'empty_request', error: ERR_EXTPROC_MALFORMED(`unknown request ${String(kind)}`) };
    }
  };

  const attr = (name: string): string | undefined => {
    const v = attributes.get(name);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };

  return {
    accept,
    get started() {
      return reqHeaders;
    },
    get requestEnded() {
      return reqBodyEnded;
    },
    route() {
      const q = target.indexOf('?');
      return { host: stripShadowSuffix(authority), path: q >= 0 ? target.slice(0, q) : target };
    },
    build() {
      const source = attr('source.address');
      const protocol = attr('request.protocol');
      const exchange: CapturedExchange = {
        id,
        requestId: requestHeaders.find(([n]) => n === 'x-request-id')?.[1] ?? attr('request.id') ?? id,
        source: 'ext_proc',
        receivedAt,
        clientIp: clientAddress(requestHeaders, source ? addressIp(source) : undefined, limits.xffTrustedHops),
        host: stripShadowSuffix(authority),
        method,
        target,
        httpVersion: protocol ? protocol.replace(/^HTTP\//i, '') : '1.1',
        headers: requestHeaders,
        body: concat(reqBody),
        bodyTruncated: reqBody.seen > reqBody.kept,
        bodyBytesSeen: reqBody.seen,
      };
      if (respHeaders) {
        const response: CapturedResponse = {
          status,
          headers: responseHeaders,
          body: concat(respBody),
          bodyTruncated: respBody.seen > respBody.kept,
        };
        exchange.response = response;
      }
      return exchange;
    },
  };
}
