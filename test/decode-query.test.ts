import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, at, find, codes } from './helpers/decode.js';

test('query keys and values are points at the same location; url in the chain only when decoding changed it', () => {
  const r = decode('/search?q=shoes&sort=price%20asc&page=2');
  assert.deepEqual(at(r, 'query.q', 'key'), ['q']);
  assert.deepEqual(at(r, 'query.q'), ['shoes']);
  assert.deepEqual(find(r, 'query.q', 'shoes')?.chain, []);
  assert.deepEqual(find(r, 'query.sort', 'price asc')?.chain, ['url']);
});

test('bracket syntax: a[0][b] → query.a[0].b, ids[] → query.ids[], a[b][c] → query.a.b.c', () => {
  const r = decode('/p?a%5B0%5D%5Bb%5D=x&ids[]=1&ids[]=2&user[name][first]=Bob&odd[x]y=1');
  assert.deepEqual(at(r, 'query.a[0].b'), ['x']);
  assert.deepEqual(at(r, 'query.a[0].b', 'key'), ['a[0][b]']);
  assert.deepEqual(at(r, 'query.ids[]'), ['1', '2']);
  assert.deepEqual(at(r, 'query.user.name.first'), ['Bob']);
  assert.deepEqual(at(r, 'query.odd[x]y'), ['1']);
});

test('plus is space in query and forms; duplicate parameters are all kept', () => {
  const r = decode('/p?q=a+b&q=c%2Bd');
  assert.deepEqual(at(r, 'query.q'), ['a b', 'c+d']);
});

test('double encoding yields a second url variant; %u (IIS) is decoded', () => {
  const r = decode('/p?id=1%2527%20OR%201%3D1&n=%u0027%u003cscript');
  assert.deepEqual(at(r, 'query.id'), ['1%27 OR 1=1', "1' OR 1=1"]);
  assert.deepEqual(find(r, 'query.id', "1' OR 1=1")?.chain, ['url', 'url']);
  assert.deepEqual(at(r, 'query.n'), ["'<script"]);
});

test('invalid UTF-8 in percent escapes is kept as bytes and flagged', () => {
  const r = decode('/p?x=%bf%27%20or%201=1');
  assert.deepEqual(at(r, 'query.x'), ["\u00bf' or 1=1"]);
  assert.ok(codes(r).includes('invalid_utf8'));
});

test('malformed escapes stay literal and never throw', () => {
  const r = decode('/p?a=%&b=%zz&c=%e2%82&d==&=v&&');
  assert.deepEqual(at(r, 'query.a'), ['%']);
  assert.deepEqual(at(r, 'query.b'), ['%zz']);
  assert.deepEqual(at(r, 'query.d'), ['=']);
  assert.deepEqual(at(r, 'query.'), ['v']);
});

test('bracket depth past maxDepth is flagged and the rest kept as one segment', () => {
  const r = decode(`/p?a${'[x]'.repeat(10)}=1`, [], '', { maxDepth: 3 });
  assert.ok(codes(r).includes('query_depth'));
  assert.deepEqual(at(r, `query.a.x.x.x.${'[x]'.repeat(7)}`), ['1']);
});

test('urlencoded body: body.form.<key> with the form container in the chain', () => {
  const r = decode(
    '/login',
    [['content-type', 'application/x-www-form-urlencoded']],
    'user=admin%27--&pass=x&remember',
  );
  assert.deepEqual(find(r, 'body.form.user', "admin'--")?.chain, ['form', 'url']);
  assert.deepEqual(at(r, 'body.form.remember'), ['']);
});

test('a key that is no parameter name also gives the rejoined key=value (raw text posted as a form)', () => {
  const form: Array<[string, string]> = [['content-type', 'application/x-www-form-urlencoded']];
  // CRS 942200: the body `'admin', '1'='1'` splits into key `'admin', '1'` and value `'1'`.
  const r = decode('/post', form, "'admin', '1'='1'");
  const location = "body.form.'admin', '1'";
  assert.deepEqual(at(r, location), ["'1'", "'admin', '1'='1'"]);
  assert.deepEqual(find(r, location, "'admin', '1'='1'")?.chain, ['form', 'pair']);
  const spaced = decode('/post', form, "hash = 'abc', 0x1a");
  assert.deepEqual(at(spaced, 'body.form.hash '), [" 'abc', 0x1a", "hash = 'abc', 0x1a"]);
  // Percent/`+` decoding shows in the chain; query strings behave the same.
  const q = decode('/p?first+name=Ann&x=1');
  assert.deepEqual(find(q, 'query.first name', 'first name=Ann')?.chain, ['url', 'pair']);
});

test('ordinary keys (brackets, dashes, dots, $) give no rejoined point; a key without = neither', () => {
  const r = decode(
    '/checkout',
    [['content-type', 'application/x-www-form-urlencoded']],
    'user%5Bname%5D=Ann&g-recaptcha-response=abc&a.b=1&ctl00%24Main%24txt=x&ids[]=1&odd%20key',
  );
  assert.equal(r.points.filter((p) => p.chain.includes('pair')).length, 0, r.points.map((p) => p.value).join('|'));
  assert.deepEqual(at(r, 'body.form.odd key'), ['']);
});
