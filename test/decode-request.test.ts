import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, at, find, codes, LIMITS } from './helpers/decode.js';
import { performance } from 'node:perf_hooks';
import { resolveConfig } from '../src/config/config.js';
import type { CapturedExchange } from '../src/core/model.js';
import { decodeRequest } from '../src/decode/decode-request.js';
import { capturedExchange } from './helpers/exchange.js';

import { analyzeExchange } from '../src/detect/analyze-exchange.js';

test('every header is a point; cookies are parsed; names lower-cased, values faithful', () => {
  const r = decode('/', [
    ['User-Agent', 'Mozilla/5.0 (Mac)'],
    ['x-api-key', 'K3y'],
    ['cookie', 'session=AbC; theme="dark"; flag'],
  ]);
  assert.deepEqual(at(r, 'header.user-agent'), ['Mozilla/5.0 (Mac)']);
  assert.deepEqual(at(r, 'header.x-api-key'), ['K3y']);
  assert.deepEqual(at(r, 'header.cookie'), ['session=AbC; theme="dark"; flag']);
  assert.deepEqual(at(r, 'cookie.session'), ['AbC']);
  assert.deepEqual(at(r, 'cookie.session', 'key'), ['session']);
  assert.deepEqual(at(r, 'cookie.theme'), ['dark']);
  assert.deepEqual(at(r, 'cookie.flag'), ['']);
});

test('protocol headers are not nested-decoded; data headers are', () => {
  const enc = encodeURIComponent("' or 1=1");
  const r = decode('/', [
    ['accept-language', enc],
    ['x-custom', enc],
    ['referer', `https://shop.example/p?q=${enc}`],
  ]);
  assert.deepEqual(at(r, 'header.accept-language'), [enc]);
  assert.deepEqual(at(r, 'header.x-custom'), [enc, "' or 1=1"]);
  assert.deepEqual(find(r, 'header.referer.q', "' or 1=1")?.chain, ['url', 'query']);
});

test('points come in a stable order: path, query, headers, cookies, body', () => {
  const r = decode(
    '/a?x=1',
    [
      ['content-type', 'application/x-www-form-urlencoded'],
      ['cookie', 'c=1'],
    ],
    'b=2',
  );
  const order = r.points.map((p) => p.location.split('.')[0]);
  const firstIndex = (s: string): number => order.indexOf(s);
  assert.ok(firstIndex('path') < firstIndex('query'));
  assert.ok(firstIndex('query') < firstIndex('header'));
  assert.ok(firstIndex('header') < firstIndex('cookie'));
  assert.ok(firstIndex('cookie') < firstIndex('body'));
});

test('maxPoints bounds the output and is reported once', () => {
  const q = Array.from({ length: 500 }, (_, i) => `p${i}=${i}`).join('&');
  const r = decode(`/?${q}`, [], '', { maxPoints: 50 });
  assert.equal(r.points.length, 50);
  assert.deepEqual(codes(r).filter((c) => c === 'max_points').length, 1);
});

test('maxHeaderCount and header value size are enforced with anomalies', () => {
  const headers = Array.from({ length: 30 }, (_, i): [string, string] => [`x-h${i}`, 'v']);
  headers.push(['x-big', 'a'.repeat(5000)]);
  const r = decode('/', headers, '', { maxHeaderCount: 10, maxValueBytes: 1000 });
  assert.ok(codes(r).includes('header_count'));
  assert.equal(r.points.filter((p) => p.location.startsWith('header.')).length, 10);
  const big = decode('/', [['x-big', 'a'.repeat(5000)]], '', { maxValueBytes: 1000 });
  assert.ok(codes(big).includes('header_too_large'));
  assert.equal(at(big, 'header.x-big')[0]?.length, 1000);
});

test('a passed deadline stops decoding with decode_deadline', () => {
  const exchange = capturedExchange({
    id: 'd',
    host: 'h',
    target: '/a/b?x=1',
    headers: [['content-type', 'application/json']],
    body: '{"a":"b"}',
  });
  const r = decodeRequest(exchange, LIMITS, performance.now() - 1);
  assert.ok(codes(r).includes('decode_deadline'));
  assert.ok(!r.points.some((p) => p.location.startsWith('body.')));
});

test('NUL bytes are kept and flagged', () => {
  const r = decode('/f?file=report.pdf%00.php');
  assert.deepEqual(at(r, 'query.file'), ['report.pdf\u0000.php']);
  assert.ok(r.anomalies.some((a) => a.code === 'nul_byte' && a.location === 'query.file'));
});

test('binary bodies produce no body points; text with an unknown type is body.raw', () => {
  const bin = decode(
    '/b',
    [['content-type', 'application/octet-stream']],
    Buffer.from([0, 1, 2, 3, 255, 254, 0, 7, 8, 9, 0, 0]),
  );
  assert.ok(!bin.points.some((p) => p.location.startsWith('body')));
  const png = Buffer.from([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0,
  ]);
  assert.deepEqual(
    codes(decode('/img', [['content-type', 'image/png']], png)),
    [],
    'a binary upload is not an anomaly',
  );
  const txt = decode('/t', [['content-type', 'text/csv']], "name,comment\nbob,' or 1=1");
  assert.deepEqual(at(txt, 'body.raw'), ["name,comment\nbob,' or 1=1"]);
});

test('a body cut by the ingest is reported', () => {
  const exchange = capturedExchange({
    id: 't',
    source: 'mirror',
    host: 'h',
    body: 'a=1',
    bodyTruncated: true,
    bodyBytesSeen: 5_000_000,
  });
  const r = decodeRequest(exchange, LIMITS, performance.now() + 1000);
  assert.ok(codes(r).includes('body_truncated'));
});

test('analyzeExchange finds an attack hidden in gzip → json → base64', async () => {
  const { gzipSync } = await import('node:zlib');
  // A generous budget: the first analysis in a process pays for JIT warm-up.
  const config = resolveConfig({ analysis: { limits: { budgetMs: 10_000 } } }).analysis;
  const inner = Buffer.from("admin' or 1=1 --").toString('base64');
  const exchange = capturedExchange({
    id: 'g',
    host: 'h',
    target: '/api/login',
    headers: [
      ['content-type', 'application/json'],
      ['content-encoding', 'gzip'],
    ],
    body: gzipSync(JSON.stringify({ user: inner })),
    bodyBytesSeen: 0,
  });
  const result = analyzeExchange(exchange, config);
  const sqli = result.findings.find((f) => f.attackType === 'sqli');
  assert.ok(sqli, JSON.stringify(result));
  assert.equal(sqli.location, 'body.json.user');
  assert.deepEqual(sqli.chain, ['gzip', 'json', 'base64']);
});

test('a malformed exchange (a bug upstream) becomes a decode_error anomaly, not a throw', () => {
  const broken = {
    ...capturedExchange({ id: 'b', clientIp: '', host: 'h', target: '/a?x=1' }),
    headers: null,
  } as unknown as CapturedExchange;
  const r = decodeRequest(broken, LIMITS, performance.now() + 1000);
  assert.ok(codes(r).includes('decode_error'));
  assert.deepEqual(at(r, 'query.x'), ['1'], 'points found before the failure are kept');
});
