import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, at, find, codes } from './helpers/decode.js';

import { normalizePath, splitTarget } from '../src/decode/decode-path.js';

test('normalizePath resolves dot segments, empty segments, params and backslashes', () => {
  assert.equal(normalizePath(undefined, '/a/./b/../c//d/'), '/a/c/d/');
  assert.equal(normalizePath(undefined, '/app/..;/admin'), '/admin');
  assert.equal(normalizePath(undefined, '/a\\..\\..\\windows\\win.ini'), '/windows/win.ini');
  assert.equal(normalizePath(undefined, '/static/%2e%2e/%2e%2e/etc/passwd'), '/etc/passwd');
  assert.equal(normalizePath(undefined, '/a%2fb'), '/a/b');
  assert.equal(normalizePath(undefined, '/'), '/');
  assert.equal(normalizePath(undefined, ''), '/');
});

test('overlong UTF-8 (%c0%af) decodes to "/" in the normalised path and is flagged', () => {
  const r = decode('/scripts/..%c0%af../winnt/system32/cmd.exe');
  assert.equal(r.normalizedPath, '/winnt/system32/cmd.exe');
  assert.deepEqual(at(r, 'path.normalized'), ['/winnt/system32/cmd.exe']);
  assert.ok(codes(r).includes('path_overlong_utf8'));
  assert.ok(codes(r).includes('path_above_root'));
});

test('double-encoded traversal is decoded twice and flagged', () => {
  const r = decode('/files/%252e%252e%252fetc%252fpasswd');
  assert.equal(r.normalizedPath, '/etc/passwd');
  assert.ok(codes(r).includes('path_double_encoded'));
});

test('raw path, normalised path and 1-based segments are all points', () => {
  const r = decode('/api/v1/users/42%3Bdrop?x=1');
  assert.equal(r.path, '/api/v1/users/42%3Bdrop');
  assert.deepEqual(at(r, 'path.raw'), ['/api/v1/users/42%3Bdrop']);
  assert.deepEqual(at(r, 'path.1'), ['api']);
  assert.deepEqual(at(r, 'path.4'), ['42;drop']);
  assert.deepEqual(find(r, 'path.4', '42;drop')?.chain, ['url']);
  assert.deepEqual(find(r, 'path.1', 'api')?.chain, []);
});

test('an ordinary path raises no anomaly', () => {
  const r = decode('/shop/cart/items/7');
  assert.deepEqual(codes(r), []);
  assert.equal(r.normalizedPath, '/shop/cart/items/7');
});

test('splitTarget understands absolute-form targets and fragments', () => {
  assert.deepEqual(splitTarget('http://h.example:8080/a/b?x=1'), { path: '/a/b', query: 'x=1' });
  assert.deepEqual(splitTarget('https://h.example?x=1'), { path: '/', query: 'x=1' });
  assert.deepEqual(splitTarget('/a#frag?no'), { path: '/a', query: '' });
  assert.deepEqual(splitTarget('*'), { path: '*', query: '' });
});
