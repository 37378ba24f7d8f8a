import type { CapturedExchange } from '../../src/core/model.js';

/** Fields to set on a test exchange; `body` may be given as text (encoded as UTF-8). */
export type ExchangeOverrides = Partial<Omit<CapturedExchange, 'body'>> & { body?: string | Uint8Array };

/**
 * Builds a `CapturedExchange` for tests: the one place that spells out every field, so a new
 * field in the model is added here once rather than in each test file.
 *
 * Defaults: id `'x'`, requestId = id, source `'replay'`, receivedAt 0, clientIp `'192.0.2.1'`,
 * host `'shop.example.com'`, method `GET` (or `POST` when the body is not empty), target `'/'`,
 * httpVersion `'1.1'`, no headers, an empty body, not truncated, bodyBytesSeen = body length in
 * bytes, no response. Every default can be overridden; a field passed as `undefined` stays
 * `undefined`, so pass only the fields a test cares about.
 */
export function capturedExchange(overrides: ExchangeOverrides = {}): CapturedExchange {
  const { body = new Uint8Array(0), ...fields } = overrides;
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const id = fields.id ?? 'x';
  return {
    id,
    requestId: id,
    source: 'replay',
    receivedAt: 0,
    clientIp: '192.0.2.1',
    host: 'shop.example.com',
    method: bytes.byteLength > 0 ? 'POST' : 'GET',
    target: '/',
    httpVersion: '1.1',
    headers: [],
    body: bytes,
    bodyTruncated: false,
    bodyBytesSeen: bytes.byteLength,
    ...fields,
  };
}
