import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, at, find, codes } from './helpers/decode.js';

/** A body as Chrome sends it (boundary style, header order). */
const BOUNDARY = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
const CT: [string, string] = ['content-type', `multipart/form-data; boundary=${BOUNDARY}`];
const png = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 1, 2, 3,
]);
const chrome = Buffer.concat([
  Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nMy photo <b>\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="avatar"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
  ),
  png,
  Buffer.from(
    `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="doc"; filename="../../shell.php"\r\nContent-Type: text/plain\r\n\r\n<?php echo shell_exec($_GET['c']); ?>\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n{"tag":"x' or 1=1"}\r\n` +
      `--${BOUNDARY}--\r\n`,
  ),
]);

test('fields, filenames, part headers and text file samples', () => {
  const r = decode('/upload', [CT], chrome);
  assert.deepEqual(at(r, 'body.multipart.title'), ['My photo <b>']);
  assert.deepEqual(at(r, 'body.multipart.title', 'key'), ['title']);
  assert.deepEqual(at(r, 'body.multipart.avatar.filename'), ['a.png']);
  assert.deepEqual(at(r, 'body.multipart.avatar.header.content-type'), ['image/png']);
  assert.deepEqual(at(r, 'body.multipart.avatar'), [], 'binary file content is not a point');
  assert.deepEqual(at(r, 'body.multipart.doc.filename'), ['../../shell.php']);
  assert.deepEqual(at(r, 'body.multipart.doc'), ["<?php echo shell_exec($_GET['c']); ?>"]);
  assert.deepEqual(find(r, 'body.multipart.meta.tag', "x' or 1=1")?.chain, ['multipart', 'json']);
  assert.deepEqual(codes(r), []);
});

test('RFC 5987 filename* is decoded; quoted names with escapes are read', () => {
  const body =
    '--b\r\nContent-Disposition: form-data; name="f"; filename*=UTF-8\'\'%E2%80%AE%27gnp.exe\r\n\r\nx\r\n' +
    '--b\r\nContent-Disposition: form-data; name="q\\"x"\r\n\r\nv\r\n--b--';
  const r = decode('/u', [['content-type', 'multipart/form-data; boundary="b"']], body);
  assert.deepEqual(at(r, 'body.multipart.f.filename'), ["\u202e'gnp.exe"]);
  assert.deepEqual(at(r, 'body.multipart.q"x'), ['v']);
});

test('file samples are cut at maxPartSampleBytes', () => {
  const body = `--b\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\n${'a'.repeat(10000)}\r\n--b--`;
  const r = decode('/u', [['content-type', 'multipart/form-data; boundary=b']], body, { maxPartSampleBytes: 100 });
  assert.equal(at(r, 'body.multipart.f')[0]?.length, 100);
});

test('LF-only line endings and a missing closing boundary are tolerated, flagged', () => {
  const body =
    '--b\nContent-Disposition: form-data; name="a"\n\n1\n--b\nContent-Disposition: form-data; name="c"\n\nlast';
  const r = decode('/u', [['content-type', 'multipart/form-data; boundary=b']], body);
  assert.deepEqual(at(r, 'body.multipart.a'), ['1']);
  assert.deepEqual(at(r, 'body.multipart.c'), ['last']);
  assert.ok(codes(r).includes('multipart_unterminated'));
});

test('a boundary that never appears is malformed; the body is still analysed as text', () => {
  const r = decode('/u', [['content-type', 'multipart/form-data; boundary=nothere']], "name=' or 1=1");
  assert.ok(codes(r).includes('multipart_malformed'));
  assert.ok(r.points.some((p) => p.location.startsWith('body.') && p.value.includes("' or 1=1")));
});

test('a missing boundary parameter is sniffed from the body', () => {
  const r = decode(
    '/u',
    [['content-type', 'multipart/form-data']],
    '--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--zz--',
  );
  assert.deepEqual(at(r, 'body.multipart.a'), ['1']);
});

test('base64 content-transfer-encoding is undone', () => {
  const body = `--b\r\nContent-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from('<script>').toString('base64')}\r\n--b--`;
  const r = decode('/u', [['content-type', 'multipart/form-data; boundary=b']], body);
  assert.deepEqual(find(r, 'body.multipart.a', '<script>')?.chain, ['multipart', 'base64']);
});

test('an SVG upload is walked as XML: its DOCTYPE and entities become points', () => {
  const svg =
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/hostname">]><svg><text>&x;</text></svg>';
  const body = `--b\r\nContent-Disposition: form-data; name="img"; filename="a.svg"\r\nContent-Type: image/svg+xml\r\n\r\n${svg}\r\n--b--`;
  const r = decode('/u', [['content-type', 'multipart/form-data; boundary=b']], body);
  assert.deepEqual(at(r, 'body.multipart.img.!entity.x'), ['SYSTEM "file:///etc/hostname"']);
  assert.deepEqual(find(r, 'body.multipart.img./svg/text', '&x;')?.chain, ['multipart', 'xml']);
});
