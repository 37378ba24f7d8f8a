import type { HeaderList } from '../core/model.js';
import { ANOMALY } from './anomaly-codes.js';
import { addAnomaly, childLocation, type DecodeContext, emitKey, emitValue } from './decode-context.js';

/*
 * Every header is a point (`header.<name>`, value as sent). Nested decoding runs only on
 * headers an application may interpret as data (user-agent, referer, authorization, custom
 * x-…): protocol headers with a fixed grammar would only produce guesses and noise.
 */

/** Headers with a protocol grammar: kept as points, never nested-decoded. */
const STRUCTURAL = new Set([
  'accept',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'date',
  'dnt',
  'expect',
  'host',
  ':authority',
  ':method',
  ':path',
  ':scheme',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'keep-alive',
  'pragma',
  'priority',
  'range',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'upgrade-insecure-requests',
  'traceparent',
  'tracestate',
  'x-request-id',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-envoy-internal',
  'x-envoy-expected-rq-timeout-ms',
  'x-envoy-attempt-count',
  'x-envoy-decorator-operation',
  'x-envoy-peer-metadata',
  'x-envoy-peer-metadata-id',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-ot-span-context',
  'x-cloud-trace-context',
  'x-amzn-trace-id',
  'content-md5',
  'cookie',
]);

/** True when header values of this name are never nested-decoded. */
export function isStructuralHeader(name: string): boolean {
  return STRUCTURAL.has(name) || name.startsWith('sec-');
}

/** `cookie.<name>` key and value points from one Cookie header. */
export function walkCookies(ctx: DecodeContext, value: string): void {
  let start = 0;
  while (start < value.length && !ctx.stopped) {
    let end = value.indexOf(';', start);
    if (end === -1) end = value.length;
    const part = value.slice(start, end);
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (name.length > 0) {
      let v = eq === -1 ? '' : part.slice(eq + 1).trim();
      if (v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34) v = v.slice(1, -1);
      const location = childLocation('cookie', name);
      emitKey(ctx, location, name, []);
      // Cookie values are not percent-encoded by definition; the nested decoder adds a 'url'
      // variant when they are.
      emitValue(ctx, location, v, []);
    }
    start = end + 1;
  }
}

/**
 * Emits header and cookie points, bounded by limits.maxHeaderCount; values longer than
 * limits.maxValueBytes are cut (header_too_large).
 */
export function walkHeaders(ctx: DecodeContext, headers: HeaderList): void {
  const { maxHeaderCount, maxValueBytes } = ctx.limits;
  if (headers.length > maxHeaderCount) {
    addAnomaly(ctx, ANOMALY.headerCount, 'header', `${headers.length} header lines, ${maxHeaderCount} analysed`);
  }
  const count = Math.min(headers.length, maxHeaderCount);
  for (let i = 0; i < count && !ctx.stopped; i++) {
    const [rawName, rawValue] = headers[i]!;
    const lower = rawName.toLowerCase();
    const name = lower.length > 256 ? lower.slice(0, 256) : lower;
    let value = rawValue;
    const location = `header.${name}`;
    if (value.length > maxValueBytes) {
      addAnomaly(ctx, ANOMALY.headerTooLarge, location, `value of ${value.length} chars, ${maxValueBytes} analysed`);
      value = value.slice(0, maxValueBytes);
    }
    emitValue(ctx, location, value, [], !isStructuralHeader(name));
    if (name === 'cookie') walkCookies(ctx, value);
  }
}
