import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, at, find, codes } from './helpers/decode.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const b64url = (s: string): string => Buffer.from(s).toString('base64url');

test('base64 inside a parameter: chain url → base64 → json', () => {
  const inner = encodeURIComponent(b64(JSON.stringify({ user: "admin' --" })));
  const r = decode(`/p?data=${inner}`);
  const p = find(r, 'query.data.user', "admin' --");
  assert.deepEqual(p?.chain, ['url', 'base64', 'json']);
  assert.deepEqual(at(r, 'query.data.user', 'key'), ['user']);
});

test('base64url is recognised and named', () => {
  const r = decode(`/p?t=${b64url('<svg/onload=alert(1)>??>')}`);
  assert.ok(
    r.points.some((p) => p.value === '<svg/onload=alert(1)>??>' && p.chain.at(-1) === 'base64url'),
    JSON.stringify(r.points),
  );
});

test('hex (plain and 0x) decodes when it is text', () => {
  const r = decode(`/p?h=${Buffer.from("' or 1=1 --").toString('hex')}&x=0x${Buffer.from('admin').toString('hex')}`);
  assert.deepEqual(find(r, 'query.h', "' or 1=1 --")?.chain, ['hex']);
  assert.deepEqual(find(r, 'query.x', 'admin')?.chain, ['hex']);
});

test('HTML entities (named, decimal, hex, no semicolon) and JS escapes', () => {
  const r = decode(
    `/p?a=${encodeURIComponent('&lt;img src=x onerror=&#97;&#x6c;ert&lpar;1&rpar;&gt;')}&b=${encodeURIComponent('\\u0027 OR \\x31=1')}&c=${encodeURIComponent('&#39 or 1=1')}`,
  );
  assert.deepEqual(find(r, 'query.a', '<img src=x onerror=alert(1)>')?.chain, ['url', 'html']);
  assert.deepEqual(find(r, 'query.b', "' OR 1=1")?.chain, ['url', 'js']);
  assert.ok(find(r, 'query.c', "' or 1=1"));
});

test('JSON in a string becomes child locations', () => {
  const r = decode(
    '/p',
    [['content-type', 'application/json']],
    JSON.stringify({ payload: '{"cmd":"cat /etc/passwd"}' }),
  );
  assert.deepEqual(find(r, 'body.json.payload.cmd', 'cat /etc/passwd')?.chain, ['json', 'json']);
});

test('URL in a parameter: its query parameters become child points', () => {
  const r = decode(`/redirect?next=${encodeURIComponent('https://evil.example/cb?token=abc&u=%27x')}`);
  assert.deepEqual(at(r, 'query.next'), [
    'https://evil.example/cb?token=abc&u=%27x',
    "https://evil.example/cb?token=abc&u='x",
  ]);
  assert.deepEqual(at(r, 'query.next.token'), ['abc']);
  assert.deepEqual(find(r, 'query.next.u', "'x")?.chain, ['url', 'url', 'query']);
});

test('Basic credentials and JWTs in authorization are decoded', () => {
  const jwt = `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url('{"sub":"1\' or 1=1"}')}.`;
  const r = decode('/p', [
    ['authorization', `Basic ${b64("admin':x")}`],
    ['x-token', `Bearer ${jwt}`],
  ]);
  assert.deepEqual(find(r, 'header.authorization', "admin':x")?.chain, ['base64']);
  assert.deepEqual(at(r, 'header.x-token.jwt.header.alg'), ['none']);
  assert.deepEqual(find(r, 'header.x-token.jwt.payload.sub', "1' or 1=1")?.chain, ['jwt', 'json']);
});

test('ordinary values produce no guessed variants (no noise)', () => {
  const values = [
    '20242024',
    '41424344',
    'products',
    'password',
    'HelloWorld',
    '1234567890123456',
    'deadbeefcafebabe',
    'd41d8cd98f00b204e9800998ecf8427e',
    'en-US',
    'a_b-c',
  ];
  const r = decode(`/p?${values.map((v, i) => `v${i}=${v}`).join('&')}`, [
    ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
    ['accept-encoding', 'gzip, deflate, br'],
    ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'],
    ['cookie', '_ga=GA1.2.1234567890.1700000000; sid=s%3AabcDEF123'],
  ]);
  const variants = r.points.filter((p) => p.chain.length > 0 && !p.location.startsWith('path.'));
  assert.deepEqual(
    variants.map((p) => `${p.location}:${p.chain.join('>')}`),
    ['cookie.sid:url'],
  );
  assert.deepEqual(codes(r), []);
});

test('nested decoding stops at maxDecodeDepth with an anomaly', () => {
  let v = "' or 1=1";
  for (let i = 0; i < 6; i++) v = encodeURIComponent(v);
  const r = decode(`/p?x=${v}`, [], '', { maxDecodeDepth: 2 });
  assert.ok(codes(r).includes('decode_depth'));
  assert.equal(at(r, 'query.x').length, 3);
});

test('XML inside a JSON string is walked as XML', () => {
  const r = decode(
    '/p',
    [['content-type', 'application/json']],
    JSON.stringify({
      doc: '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "http://x.example/">]><r a="1">&e;</r>',
    }),
  );
  assert.deepEqual(at(r, 'body.json.doc.!entity.e'), ['SYSTEM "http://x.example/"']);
  assert.deepEqual(find(r, 'body.json.doc./r/@a', '1')?.chain, ['json', 'xml']);
});
