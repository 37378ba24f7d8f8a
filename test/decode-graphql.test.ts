import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, at, find, codes } from './helpers/decode.js';

const CT: [string, string] = ['content-type', 'application/json'];

test('POST {query, variables}: arguments, fields, aliases and variables are points', () => {
  const query = `query GetUser($id: ID!, $lim: Int = 10) {
    user(id: "1' OR '1'='1") { a1: name posts(first: 5, filter: { title: "<svg onload=1>", tags: ["x"] }) { title } }
  }`;
  const r = decode('/graphql', [CT], JSON.stringify({ query, variables: { id: "2' --" }, operationName: 'GetUser' }));
  assert.deepEqual(find(r, 'body.graphql.GetUser.user.id', "1' OR '1'='1")?.chain, ['json', 'graphql']);
  assert.deepEqual(at(r, 'body.graphql.GetUser.user.posts.filter.title'), ['<svg onload=1>']);
  assert.deepEqual(at(r, 'body.graphql.GetUser.user.posts.filter.tags[0]'), ['x']);
  assert.deepEqual(at(r, 'body.graphql.GetUser.user.name', 'key'), ['name', 'a1']);
  assert.deepEqual(at(r, 'body.graphql.GetUser.$lim'), ['10']);
  assert.deepEqual(at(r, 'body.json.variables.id'), ["2' --"]);
  assert.deepEqual(r.facts, {
    'graphql.operations': 1,
    'graphql.depth': 3,
    'graphql.aliases': 1,
    'graphql.fields': 4,
    'graphql.fragments': 0,
    'graphql.directives': 0,
    'graphql.introspection': 0,
    'graphql.batch': 1,
  });
});

test('anonymous operations use the operation type; fragments and directives are walked', () => {
  const query = `{ ...F node(id: "n1") @include(if: true) { id } }
    fragment F on Query { search(q: "needle") { id } }`;
  const r = decode('/api', [CT], JSON.stringify({ query }));
  assert.deepEqual(at(r, 'body.graphql.query.node.id'), ['n1']);
  assert.deepEqual(at(r, 'body.graphql....F.search.q'), ['needle']);
  assert.deepEqual(at(r, 'body.graphql.query.node.@include.if'), ['true']);
  assert.equal(r.facts?.['graphql.fragments'], 1);
  assert.equal(r.facts?.['graphql.directives'], 1);
});

test('batched arrays: one prefix per entry, batch size and alias count as facts', () => {
  const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: login(pass: "p${i}") { ok }`).join(' ');
  const batch = [{ query: `mutation { ${aliases} }` }, { query: '{ __schema { types { name } } }' }];
  const r = decode('/graphql', [CT], JSON.stringify(batch));
  assert.deepEqual(at(r, 'body.graphql[0].mutation.login.pass').length, 50);
  assert.equal(r.facts?.['graphql.batch'], 2);
  assert.equal(r.facts?.['graphql.aliases'], 50);
  assert.equal(r.facts?.['graphql.introspection'], 1);
  assert.equal(r.facts?.['graphql.operations'], 2);
});

test('GET ?query= is parsed as GraphQL', () => {
  const r = decode(`/graphql?query=${encodeURIComponent('{ user(name: "x\' or 1=1") { id } }')}`);
  assert.deepEqual(find(r, 'query.graphql.query.user.name', "x' or 1=1")?.chain, ['url', 'graphql']);
  assert.equal(r.facts?.['graphql.depth'], 2);
});

test('application/graphql bodies are parsed directly', () => {
  const r = decode('/gql', [['content-type', 'application/graphql']], 'query { a(b: "c") { d } }');
  assert.deepEqual(find(r, 'body.graphql.query.a.b', 'c')?.chain, ['graphql']);
});

test('syntax errors and token floods are anomalies, never throws', () => {
  const bad = decode('/graphql', [CT], JSON.stringify({ query: '{ user(id: ) }' }));
  assert.ok(codes(bad).includes('graphql_invalid'));
  const flood = decode('/graphql', [CT], JSON.stringify({ query: `{ ${'a '.repeat(500)} }` }), {
    maxGraphqlTokens: 100,
  });
  assert.ok(codes(flood).includes('graphql_tokens'));
});

test('a search field called "query" on a non-GraphQL route is not parsed as GraphQL', () => {
  const r = decode('/search?query=shoes+red');
  assert.equal(r.facts, undefined);
  assert.deepEqual(at(r, 'query.query'), ['shoes red']);
  const json = decode(`/search?query=${encodeURIComponent('{"term":"shoes"}')}`);
  assert.equal(json.facts, undefined);
  assert.deepEqual(codes(json), []);
  assert.deepEqual(at(json, 'query.query.term'), ['shoes']);
});
