import { performance } from 'node:perf_hooks';
import { type Limits, resolveConfig } from '../../src/config/config.js';
import type { DecodedRequest, Point } from '../../src/core/model.js';
import { decodeRequest } from '../../src/decode/decode-request.js';
import { capturedExchange } from './exchange.js';

/** Default analysis limits, for tests that override a few. */
export const LIMITS = resolveConfig({}).analysis.limits;

/** Decodes one request built from its target, headers and body (default limits, no time pressure). */
export function decode(
  target: string,
  headers: Array<[string, string]> = [],
  body: string | Uint8Array = '',
  limits: Partial<Limits> = {},
): DecodedRequest {
  const exchange = capturedExchange({ id: 'x1', host: 'shop.example', target, headers, body });
  return decodeRequest(exchange, { ...LIMITS, ...limits }, performance.now() + 10_000);
}

/** Values at one location, in order. */
export function at(r: DecodedRequest, location: string, kind: Point['kind'] = 'value'): string[] {
  return r.points.filter((p) => p.location === location && p.kind === kind).map((p) => p.value);
}

export function find(r: DecodedRequest, location: string, value: string): Point | undefined {
  return r.points.find((p) => p.location === location && p.value === value && p.kind === 'value');
}

export function codes(r: DecodedRequest): string[] {
  return r.anomalies.map((a) => a.code);
}
