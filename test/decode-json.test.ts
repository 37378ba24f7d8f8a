import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, at, find, codes } from './helpers/decode.js';

const CT: [string, string] = ['content-type', 'application/json'];

test('objects, arrays, keys and scalars become points in document order', () => {
  const body = JSON.stringify({ order: { id: 7, items: [{ sku: 'A-1', qty: 2 }], gift: true, note: null } });
  const r = decode('/orders', [CT], body);
  const body_points = r.points.filter((p) => p.location.startsWith('body.'));
  assert.deepEqual(
    body_points.map((p) => `${p.kind}:${p.location}=${p.value}`),
    [
      'key:body.json.order=order',
      'key:body.json.order.id=id',
      'value:body.json.order.id=7',
      'key:body.json.order.items=items',
      'key:body.json.order.items[0].sku=sku',
      'value:body.json.order.items[0].sku=A-1',
      'key:body.json.order.items[0].qty=qty',
      'value:body.json.order.items[0].qty=2',
      'key:body.json.order.gift=gift',
      'value:body.json.order.gift=true',
      'key:body.json.order.note=note',
    ],
  );
  assert.ok(body_points.every((p) => p.chain[0] === 'json'));
});

test('string escapes are decoded faithfully (not lower-cased, not trimmed)', () => {
  const r = decode('/x', [CT], '{"Q":" \\u003cScript\\u003e \\"x\\" \\\\ \\n"}');
  assert.deepEqual(at(r, 'body.json.Q'), [' <Script> "x" \\ \n']);
});

test('attacks in keys are visible as key points', () => {
  const r = decode('/x', [CT], '{"name\' OR 1=1--":1}');
  assert.deepEqual(at(r, "body.json.name' OR 1=1--", 'key'), ["name' OR 1=1--"]);
});

test('a syntax error keeps the values before it and is flagged', () => {
  const r = decode('/x', [CT], '{"a":"1 union select","b":[1,2,');
  assert.deepEqual(find(r, 'body.json.a', '1 union select')?.chain, ['json']);
  assert.deepEqual(at(r, 'body.json.b[1]'), ['2']);
  assert.ok(codes(r).includes('json_invalid'));
});

test('an unterminated string still yields its text', () => {
  const r = decode('/x', [CT], '{"a":"<img src=x onerror=alert(1)');
  assert.deepEqual(at(r, 'body.json.a'), ['<img src=x onerror=alert(1)']);
  assert.ok(codes(r).includes('json_invalid'));
});

test('depth past maxDepth is flagged; shallower siblings are still emitted', () => {
  const r = decode('/x', [CT], '{"deep":[[[[["hidden"]]]]],"after":"seen"}', { maxDepth: 3 });
  assert.ok(codes(r).includes('json_depth'));
  assert.deepEqual(at(r, 'body.json.after'), ['seen']);
  assert.ok(!r.points.some((p) => p.value === 'hidden'));
});

test('JSON lines: application/x-ndjson and sniffed', () => {
  const lines = '{"event":"a","v":"1"}\n{"event":"b","v":"2\' or 1=1"}\n';
  const r = decode('/ingest', [['content-type', 'application/x-ndjson']], lines);
  assert.deepEqual(at(r, 'body.jsonl[1].v'), ["2' or 1=1"]);
  const s = decode('/ingest', [], lines);
  assert.deepEqual(at(s, 'body.jsonl[0].event'), ['a']);
});

test('problem+json and JSON:API (vnd.api+json) are JSON', () => {
  const problem = decode('/x', [['content-type', 'application/problem+json']], '{"title":"t","detail":"d"}');
  assert.deepEqual(at(problem, 'body.json.detail'), ['d']);
  const api = decode(
    '/articles',
    [['content-type', 'application/vnd.api+json']],
    '{"data":{"type":"articles","attributes":{"title":"<b>x</b>"}}}',
  );
  assert.deepEqual(at(api, 'body.json.data.attributes.title'), ['<b>x</b>']);
});

test('a top-level scalar is the body.json point itself', () => {
  const r = decode('/x', [CT], '"just a string"');
  assert.deepEqual(at(r, 'body.json'), ['just a string']);
});

test('a body declared JSON that is a form is decoded as a form, flagged', () => {
  const r = decode('/x', [CT], 'a=1&b=%27');
  assert.deepEqual(at(r, 'body.form.b'), ["'"]);
  assert.ok(codes(r).includes('content_type_mismatch'));
});

test('JSON declared as text/plain (CSRF trick) is decoded as JSON and flagged', () => {
  const r = decode('/x', [['content-type', 'text/plain']], '{"amount":"1000"}');
  assert.deepEqual(at(r, 'body.json.amount'), ['1000']);
  assert.ok(codes(r).includes('content_type_mismatch'));
});
