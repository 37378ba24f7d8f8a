import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { brotliCompressSync, constants, crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { type Limits, resolveConfig } from '../src/config/config.js';
import type { CapturedExchange, DecodedRequest } from '../src/core/model.js';
import { decodeRequest } from '../src/decode/decode-request.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';
import { capturedExchange } from './helpers/exchange.js';

/*
 * Hostile inputs: each must finish, report its limit as an anomaly, and never throw; after
 * each, an ordinary attack request must still be analysed (the worker would survive).
 */

const LIMITS = resolveConfig({}).analysis.limits;

function exchange(target: string, headers: Array<[string, string]>, body: string | Uint8Array): CapturedExchange {
  return capturedExchange({ id: 'h', host: 'h.example', method: 'POST', target, headers, body });
}

function decode(
  target: string,
  headers: Array<[string, string]>,
  body: string | Uint8Array,
  limits: Partial<Limits> = {},
): DecodedRequest {
  // A generous deadline: these tests check limits, not speed (bench/bench-decode.ts does).
  return decodeRequest(exchange(target, headers, body), { ...LIMITS, ...limits }, performance.now() + 30_000);
}

function codes(r: DecodedRequest): string[] {
  return r.anomalies.map((a) => a.code);
}

/** The next, ordinary request is still analysed and its attack found. */
function nextRequestStillAnalysed(): void {
  const config = resolveConfig({ analysis: { limits: { budgetMs: 10_000 } } }).analysis;
  const result = analyzeExchange(exchange("/p?id=1'%20or%201=1--", [], ''), config);
  assert.ok(
    result.findings.some((f) => f.attackType === 'sqli' && f.location === 'query.id'),
    JSON.stringify(result),
  );
}

/**
 * A genuine gzip member inflating to `prefix` + 1 GiB of zeros, built without allocating
 * 1 GiB: one full-flushed deflate segment of 1 MiB of zeros (self-contained and byte
 * aligned) repeated 1024 times, then an empty final block and the real CRC-32 / size.
 */
function gzipBomb(prefix = ''): Buffer {
  const zeros = Buffer.alloc(1 << 20);
  const full = { finishFlush: constants.Z_FULL_FLUSH };
  const head = prefix === '' ? Buffer.alloc(0) : deflateRawSync(Buffer.from(prefix), full);
  const segment = deflateRawSync(zeros, full);
  let crc = crc32(Buffer.from(prefix));
  for (let i = 0; i < 1024; i++) crc = crc32(zeros, crc);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE((Buffer.byteLength(prefix) + 2 ** 30) % 2 ** 32, 4);
  return Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
    head,
    ...Array.from({ length: 1024 }, () => segment),
    Buffer.from([3, 0]),
    trailer,
  ]);
}

test('1 GiB gzip bomb: cut at the limit, head still analysed, memory bounded', () => {
  const bomb = gzipBomb('{"q":"<script>alert(1)</script>","pad":"');
  const ratio = (2 ** 30 / bomb.length).toFixed(0);
  assert.ok(bomb.length < 2 * 1024 * 1024, `bomb is ${bomb.length} bytes (ratio ${ratio})`);
  const rss = process.memoryUsage().rss;
  const r = decode(
    '/api',
    [
      ['content-type', 'application/json'],
      ['content-encoding', 'gzip'],
    ],
    bomb,
    {
      maxBodyBytes: 2 * 1024 * 1024,
    },
  );
  const grown = process.memoryUsage().rss - rss;
  // The 8 KiB probe sees the ratio first; without it the 8 MiB output cap would stop it.
  assert.ok(codes(r).includes('decompression_ratio'), JSON.stringify(r.anomalies));
  const noProbe = decode('/api', [['content-encoding', 'gzip']], bomb.subarray(0, 8 * 1024), {
    maxDecompressedBytes: 2 * 1024 * 1024,
    maxDecompressionRatio: 100_000,
  });
  assert.ok(codes(noProbe).includes('decompression_limit'), JSON.stringify(noProbe.anomalies));
  assert.ok(r.points.some((p) => p.location === 'body.json.q' && p.value === '<script>alert(1)</script>'));
  assert.ok(grown < 256 * 1024 * 1024, `RSS grew by ${grown} bytes`);
  nextRequestStillAnalysed();
});

test('gzip bomb past the ratio limit and a brotli bomb are cut by ratio', () => {
  const gz = gzipSync(Buffer.alloc(4 * 1024 * 1024));
  const r = decode('/api', [['content-encoding', 'gzip']], gz, { maxDecompressionRatio: 10, maxBodyBytes: 64 * 1024 });
  assert.ok(codes(r).includes('decompression_ratio'), JSON.stringify(r.anomalies));
  const br = brotliCompressSync(Buffer.alloc(16 * 1024 * 1024), { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
  const b = decode('/api', [['content-encoding', 'br']], br);
  assert.ok(
    codes(b).some((c) => c === 'decompression_ratio' || c === 'decompression_limit'),
    JSON.stringify(b.anomalies),
  );
  nextRequestStillAnalysed();
});

test('nested gzip layers (gzip of a gzip bomb) stay bounded', () => {
  const inner = gzipSync(Buffer.alloc(8 * 1024 * 1024));
  const outer = gzipSync(inner);
  const r = decode('/api', [['content-encoding', 'gzip, gzip']], outer);
  assert.ok(
    codes(r).some((c) => c.startsWith('decompression_')),
    JSON.stringify(r.anomalies),
  );
});

test('truncated gzip: header only, half a stream, garbage after the magic', () => {
  const full = gzipSync(Buffer.from(JSON.stringify({ a: 'x'.repeat(10000), b: "' or 1=1" })));
  for (const body of [
    full.subarray(0, 10),
    full.subarray(0, full.length >> 1),
    Buffer.concat([full.subarray(0, 12), Buffer.alloc(50, 0xaa)]),
  ]) {
    const r = decode(
      '/api',
      [
        ['content-type', 'application/json'],
        ['content-encoding', 'gzip'],
      ],
      body,
    );
    assert.ok(
      codes(r).some((c) => c === 'decompression_truncated' || c === 'decompression_failed'),
      JSON.stringify(r.anomalies),
    );
  }
  nextRequestStillAnalysed();
});

test('100k-deep JSON (arrays and objects) finishes with json_depth', () => {
  const depth = 100_000;
  const arrays = decode('/j', [['content-type', 'application/json']], `${'['.repeat(depth)}"x"${']'.repeat(depth)}`);
  assert.ok(codes(arrays).includes('json_depth'));
  const objects = decode('/j', [['content-type', 'application/json']], `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  assert.ok(codes(objects).includes('json_depth'));
  assert.ok(objects.points.length <= LIMITS.maxDepth + 10);
  const unclosed = decode('/j', [['content-type', 'application/json']], '['.repeat(depth));
  assert.ok(codes(unclosed).includes('json_depth'));
  assert.ok(codes(unclosed).includes('json_invalid'));
  nextRequestStillAnalysed();
});

test('billion laughs XML: nothing expanded, declarations reported', () => {
  const lol = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE lolz [',
    ' <!ENTITY lol "lol">',
    ...Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
    ']>',
    '<lolz>&lol9;</lolz>',
  ].join('\n');
  const r = decode('/x', [['content-type', 'application/xml']], lol);
  assert.ok(codes(r).includes('xml_entities_declared'));
  assert.deepEqual(
    r.points.filter((p) => p.location === 'body.xml./lolz').map((p) => p.value),
    ['&lol9;'],
  );
  assert.equal(r.points.filter((p) => p.location.startsWith('body.xml.!entity.')).length, 10);
  const total = r.points.reduce((n, p) => n + p.value.length, 0);
  assert.ok(total < 10 * lol.length, `points hold ${total} chars`);
  nextRequestStillAnalysed();
});

test('100k-deep XML finishes with xml_depth', () => {
  const r = decode('/x', [['content-type', 'application/xml']], `${'<a>'.repeat(100_000)}x${'</a>'.repeat(100_000)}`);
  assert.ok(codes(r).includes('xml_depth'));
});

test('10k multipart parts: cut at maxMultipartParts', () => {
  const parts = Array.from(
    { length: 10_000 },
    (_, i) => `--b\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nv${i}\r\n`,
  );
  const r = decode('/u', [['content-type', 'multipart/form-data; boundary=b']], `${parts.join('')}--b--\r\n`);
  assert.ok(codes(r).includes('multipart_parts'));
  assert.equal(
    r.points.filter((p) => p.location.startsWith('body.multipart.') && p.kind === 'key').length,
    LIMITS.maxMultipartParts,
  );
  nextRequestStillAnalysed();
});

test('malformed multipart boundaries never throw and are reported', () => {
  const cases: Array<[string, string]> = [
    [`multipart/form-data; boundary=${'x'.repeat(1000)}`, `--${'x'.repeat(1000)}\r\n\r\n`],
    ['multipart/form-data; boundary=""', '--\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n----'],
    [
      'multipart/form-data; boundary=(.*)+$',
      '--(.*)+$\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--(.*)+$--',
    ],
    ['multipart/form-data; boundary=b', `--b\r\nContent-Disposition: form-data; name="a"${'x'.repeat(40_000)}`],
    ['multipart/form-data; boundary=b', '--b--b--b--b\r\n--b\r\n\r\n--b'],
    ['multipart/form-data; boundary=b', '--bContent-Disposition: form-data; name="a"'],
    ['multipart/form-data', 'no boundary anywhere'],
  ];
  for (const [ct, body] of cases) {
    const r = decode('/u', [['content-type', ct]], body);
    assert.ok(
      codes(r).some((c) => c.startsWith('multipart_')) ||
        r.points.some((p) => p.location.startsWith('body.multipart.')),
      `${ct}: ${JSON.stringify(r.anomalies)}`,
    );
  }
  nextRequestStillAnalysed();
});

test('invalid UTF-8 everywhere is kept as bytes and flagged', () => {
  const junk = Buffer.from([0xc0, 0x80, 0xed, 0xa0, 0x80, 0xff, 0xfe, 0x27, 0xf8, 0x88, 0x80, 0x80, 0x80]);
  for (const ct of ['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml']) {
    const body = Buffer.concat([Buffer.from(ct.includes('json') ? '{"a":"' : ct.includes('xml') ? '<a>' : 'a='), junk]);
    const r = decode('/u?x=%ff%fe%c0%af', [['content-type', ct]], body);
    assert.ok(codes(r).includes('invalid_utf8'), `${ct}: ${JSON.stringify(r.anomalies)}`);
    assert.ok(
      r.points.some((p) => p.location.startsWith('body.') && p.value.includes("\u00ff\u00fe'")),
      ct,
    );
  }
});

test('NUL bytes in path, query, headers and bodies are kept and flagged', () => {
  const r = decode(
    '/a%00b/c?x=1%00',
    [
      ['x-h', 'a\u0000b'],
      ['content-type', 'application/json'],
    ],
    '{"k\\u0000":"v\u0000"}',
  );
  const nul = r.anomalies.filter((a) => a.code === 'nul_byte').map((a) => a.location);
  for (const loc of ['path.1', 'query.x', 'header.x-h', 'body.json.k\u0000'])
    assert.ok(nul.includes(loc), `${loc}: ${nul}`);
  const raw = decode('/n', [], Buffer.from('\u0000'.repeat(1000)));
  assert.ok(!raw.points.some((p) => p.location.startsWith('body')), 'a body of NULs is binary, not a point');
});

test('a 1 MB single header is cut to maxValueBytes and reported', () => {
  const value = `${"' or 1=1 -- ".repeat(10)}${'A'.repeat(1024 * 1024)}`;
  const r = decode('/', [['x-huge', value]], '');
  assert.ok(codes(r).includes('header_too_large'));
  const p = r.points.find((x) => x.location === 'header.x-huge');
  assert.equal(p?.value.length, LIMITS.maxValueBytes);
  nextRequestStillAnalysed();
});

test('deeply nested encodings stop at maxDecodeDepth', () => {
  let v = '<script>alert(1)</script>';
  for (let i = 0; i < 20; i++) v = i % 2 === 0 ? Buffer.from(v).toString('base64') : encodeURIComponent(v);
  const r = decode(`/p?x=${encodeURIComponent(v)}`, [], '');
  assert.ok(r.points.filter((p) => p.location === 'query.x').length <= LIMITS.maxDecodeDepth + 2);
});

test('a flood of parameters is cut at maxPoints', () => {
  const q = Array.from({ length: 20_000 }, (_, i) => `a${i}=${i}`).join('&');
  const r = decode(`/p?${q}`, [], '');
  assert.equal(r.points.length, LIMITS.maxPoints);
  assert.ok(codes(r).includes('max_points'));
});

test('inputs that make naive scanners quadratic stay linear', () => {
  const big = 512 * 1024;
  // Each case is cut by maxPoints or decoded in one pass; a quadratic scan would take minutes.
  const cases: Array<[string, Array<[string, string]>, string]> = [
    [`/p?${'a&'.repeat(big / 2)}z=1`, [], ''],
    ['/p', [['content-type', 'text/plain']], '&a'.repeat(big / 2)],
    ['/p', [['content-type', 'text/plain']], '\\u{'.repeat(big / 3)],
    ['/x', [['content-type', 'application/xml']], `${'<a>'.repeat(20_000)}${'</b>'.repeat(20_000)}`],
    [
      '/u',
      [['content-type', 'multipart/form-data; boundary=b']],
      `--b\r\nContent-Disposition: form-data${'; name="'.repeat(1500)}\r\n\r\nv\r\n--b--`,
    ],
  ];
  for (const [target, headers, body] of cases) {
    const r = decode(target, headers, body, { maxValueBytes: 1024 * 1024, maxPoints: 100_000 });
    assert.ok(r.points.length > 0, target);
  }
});
