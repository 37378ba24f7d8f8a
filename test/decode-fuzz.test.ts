import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { resolveConfig } from '../src/config/config.js';
import type { CapturedExchange, DecodedRequest } from '../src/core/model.js';
import { decodeRequest } from '../src/decode/decode-request.js';
import { capturedExchange } from './helpers/exchange.js';

/*
 * Properties over random input (fixed seed and run counts, so failures reproduce):
 * decodeRequest never throws, never reports an internal decode_error, and keeps its bounds;
 * a payload hidden under up to maxDecodeDepth random encodings is recovered.
 */

const LIMITS = resolveConfig({}).analysis.limits;
const SEED = 20261124;

function exchange(target: string, headers: Array<[string, string]>, body: Uint8Array): CapturedExchange {
  return capturedExchange({ id: 'f', host: 'fuzz.example', method: 'POST', target, headers, body });
}

function checkBounds(r: DecodedRequest): void {
  assert.ok(r.points.length <= LIMITS.maxPoints);
  assert.ok(r.anomalies.length <= LIMITS.maxAnomalies + 1);
  for (const p of r.points) {
    assert.equal(typeof p.value, 'string');
    assert.ok(p.value.length <= LIMITS.maxValueBytes);
    assert.ok(p.location.length > 0);
  }
  const internal = r.anomalies.find((a) => a.code === 'decode_error');
  assert.equal(internal, undefined, internal?.detail);
}

const contentTypes = fc.constantFrom(
  '',
  'application/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=b',
  'multipart/form-data',
  'application/xml',
  'application/graphql',
  'application/x-ndjson',
  'text/plain; charset=utf-16',
  'text/plain; charset=latin1',
  'application/octet-stream',
);

/** Byte soups biased towards the characters parsers care about. */
const soup = fc
  .array(
    fc.oneof(
      fc.constantFrom(...'{}[]":,<>/?=&%;\\\'-#!\r\n\0 abc123'.split('')),
      fc.constantFrom(
        '--b\r\n',
        'Content-Disposition: form-data; name="x"\r\n\r\n',
        '<!DOCTYPE',
        '<!ENTITY',
        '<![CDATA[',
        '%u00',
        '%c0%af',
        '&#x',
        '\\u00',
        'query {',
        '"query":"',
      ),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 200 },
  )
  .map((parts) => Buffer.from(parts.join(''), 'latin1'));

test('random bytes and structure-biased soups never throw out of decodeRequest', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 600 }), soup),
      contentTypes,
      fc.constantFrom('', 'gzip', 'deflate', 'br', 'gzip, br', 'zstd', 'compress'),
      fc.boolean(),
      (body, ct, encoding, compress) => {
        const headers: Array<[string, string]> = [];
        if (ct !== '') headers.push(['content-type', ct]);
        if (encoding !== '') headers.push(['content-encoding', encoding]);
        const payload = compress && encoding === 'gzip' ? gzipSync(body) : body;
        const r = decodeRequest(exchange('/f', headers, payload), LIMITS, performance.now() + 10_000);
        checkBounds(r);
      },
    ),
    { seed: SEED, numRuns: 400 },
  );
});

test('random targets, headers and cookies never throw', () => {
  // URL-ish characters, lone surrogates, NUL and RTL override: the odd ones decoders meet.
  const unit = fc.oneof(
    fc.constantFrom(...'%/.;\\?&=#[]+-_'.split(''), '%2e', '%c0%af', '%u002f', '..', 'é', '\ud800', '\u0000', '\u202e'),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
  );
  const text = fc.string({ unit, maxLength: 80 });
  fc.assert(
    fc.property(
      text,
      text,
      fc.array(fc.tuple(fc.string({ maxLength: 20 }), text), { maxLength: 8 }),
      (path, query, headers) => {
        const target = `/${path}?${query}`;
        const r = decodeRequest(
          exchange(target, [...headers, ['cookie', query]], new Uint8Array()),
          LIMITS,
          performance.now() + 10_000,
        );
        checkBounds(r);
      },
    ),
    { seed: SEED, numRuns: 400 },
  );
});

type Encoder = [name: string, encode: (s: string) => string];

const ENCODERS: Encoder[] = [
  ['url', (s) => s.replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)],
  ['base64', (s) => Buffer.from(s).toString('base64')],
  ['base64url', (s) => Buffer.from(s).toString('base64url')],
  ['hex', (s) => Buffer.from(s).toString('hex')],
  ['html', (s) => s.replace(/[<>"'&()=]/g, (c) => `&#${c.charCodeAt(0)};`)],
  ['js', (s) => s.replace(/[<>"'()]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)],
  ['json', (s) => JSON.stringify({ k: s })],
];

test('a payload under up to maxDecodeDepth random encodings is recovered in a query parameter', () => {
  const payload = "<script>alert('x')</script>";
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...ENCODERS), { minLength: 1, maxLength: LIMITS.maxDecodeDepth }), (chain) => {
      const encoded = chain.reduce((s, [, enc]) => enc(s), payload);
      const r = decodeRequest(
        exchange(`/p?v=${encodeURIComponent(encoded)}`, [], new Uint8Array()),
        LIMITS,
        performance.now() + 10_000,
      );
      checkBounds(r);
      const found = r.points.some((p) => p.value === payload && p.location.startsWith('query.v'));
      assert.ok(found, `not recovered through ${chain.map(([n]) => n).join(' → ')}: ${encoded}`);
    }),
    { seed: SEED, numRuns: 300 },
  );
});
