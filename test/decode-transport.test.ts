import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, at, find, codes } from './helpers/decode.js';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';

import { ZSTD_SUPPORTED } from '../src/decode/decode-transport.js';

const JSON_CT: [string, string] = ['content-type', 'application/json'];
const payload = JSON.stringify({ user: { name: "alice' OR '1'='1" }, note: 'é ü' });

for (const [encoding, compress] of [
  ['gzip', gzipSync],
  ['x-gzip', gzipSync],
  ['deflate', deflateSync],
  ['br', brotliCompressSync],
] as const) {
  test(`content-encoding ${encoding} is undone and named in the chain`, () => {
    const r = decode('/api', [JSON_CT, ['content-encoding', encoding]], compress(Buffer.from(payload)));
    const p = find(r, 'body.json.user.name', "alice' OR '1'='1");
    assert.ok(p, JSON.stringify(r.points));
    assert.deepEqual(p.chain, [encoding === 'x-gzip' ? 'gzip' : encoding, 'json']);
    assert.deepEqual(at(r, 'body.json.note'), ['é ü']);
    assert.deepEqual(codes(r), []);
  });
}

test('raw deflate sent as "deflate" (common client bug) still decodes', () => {
  const r = decode('/api', [JSON_CT, ['content-encoding', 'deflate']], deflateRawSync(Buffer.from(payload)));
  assert.ok(find(r, 'body.json.user.name', "alice' OR '1'='1"));
});

test('stacked encodings are undone last-applied first', () => {
  const body = brotliCompressSync(gzipSync(Buffer.from(payload)));
  const r = decode('/api', [JSON_CT, ['content-encoding', 'gzip, br']], body);
  assert.deepEqual(find(r, 'body.json.user.name', "alice' OR '1'='1")?.chain, ['br', 'gzip', 'json']);
});

test('zstd decodes where Node has it, else is flagged unsupported', () => {
  const r = decode('/api', [JSON_CT, ['content-encoding', 'zstd']], Buffer.from(payload));
  if (ZSTD_SUPPORTED) assert.ok(codes(r).includes('decompression_failed'));
  else assert.ok(codes(r).includes('content_encoding_unsupported'));
});

test('gzip without Content-Encoding is sniffed and flagged', () => {
  const r = decode('/api', [JSON_CT], gzipSync(Buffer.from(payload)));
  assert.ok(find(r, 'body.json.user.name', "alice' OR '1'='1"));
  assert.ok(codes(r).includes('content_encoding_sniffed'));
});

test('a Content-Encoding that lies leaves the body as sent, flagged', () => {
  const r = decode('/api', [JSON_CT, ['content-encoding', 'gzip']], payload);
  assert.ok(codes(r).includes('decompression_failed'));
  assert.ok(find(r, 'body.json.user.name', "alice' OR '1'='1"));
});

test('truncated gzip keeps what decompressed', () => {
  const noise = Array.from({ length: 4000 }, (_, i) => ((i * 2654435761) >>> 0).toString(36)).join('');
  const big = JSON.stringify({ a: 'x'.repeat(5000), evil: '<script>alert(1)</script>', b: noise });
  const gz = gzipSync(Buffer.from(big));
  const r = decode('/api', [JSON_CT, ['content-encoding', 'gzip']], gz.subarray(0, gz.length - 40));
  assert.ok(codes(r).includes('decompression_truncated'));
  assert.ok(find(r, 'body.json.evil', '<script>alert(1)</script>'));
});

test('chunked framing left in a replayed body is undone', () => {
  const body = '7\r\n{"a":"b\r\n5\r\nc\'d"}\r\n0\r\n\r\n';
  const r = decode('/api', [JSON_CT, ['transfer-encoding', 'chunked']], body);
  assert.deepEqual(find(r, 'body.json.a', "bc'd")?.chain, ['chunked', 'json']);
});

test('a de-chunked body whose first line looks like a chunk size is left alone', () => {
  const r = decode(
    '/t',
    [
      ['content-type', 'text/plain'],
      ['transfer-encoding', 'chunked'],
    ],
    'cafe\r\nbabe',
  );
  assert.deepEqual(at(r, 'body.raw'), ['cafe\r\nbabe']);
});

test('chunked header over an already de-chunked body changes nothing', () => {
  const r = decode('/api', [JSON_CT, ['transfer-encoding', 'chunked']], payload);
  assert.ok(find(r, 'body.json.user.name', "alice' OR '1'='1"));
  assert.deepEqual(codes(r), []);
});

test('charset latin1 and utf-16 (BOM) are decoded', () => {
  const latin = decode(
    '/f',
    [['content-type', 'application/x-www-form-urlencoded; charset=ISO-8859-1']],
    Buffer.from('q=caf\xe9', 'latin1'),
  );
  assert.deepEqual(at(latin, 'body.form.q'), ['café']);
  assert.deepEqual(find(latin, 'body.form.q', 'café')?.chain, ['latin1', 'form']);
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"q":"<svg onload=1>"}', 'utf16le')]);
  const r = decode('/j', [['content-type', 'application/json; charset=utf-16']], utf16);
  assert.deepEqual(find(r, 'body.json.q', '<svg onload=1>')?.chain, ['utf-16le', 'json']);
});

test('shift_jis is decoded through TextDecoder; unknown charsets are flagged', () => {
  const r = decode('/t', [['content-type', 'text/plain; charset=x-unknown-9']], 'hello');
  assert.ok(codes(r).includes('charset_unsupported'));
  assert.deepEqual(at(r, 'body.raw'), ['hello']);
});

test('invalid UTF-8 is kept byte for byte (latin1) and flagged', () => {
  const r = decode('/t', [['content-type', 'text/plain']], Buffer.from([0x61, 0xbf, 0x27, 0x20, 0x4f, 0x52]));
  assert.deepEqual(at(r, 'body.raw'), ["a\u00bf' OR"]);
  assert.ok(codes(r).includes('invalid_utf8'));
  assert.deepEqual(r.points.find((p) => p.location === 'body.raw')?.chain, ['latin1']);
});
