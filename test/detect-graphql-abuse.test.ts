import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GRAPHQL_LIMITS, graphqlAbuseDetector as d } from '../src/detect/detect-graphql-abuse.js';
import { resolveConfig } from '../src/config/config.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';
import type { CapturedExchange } from '../src/core/model.js';
import { capturedExchange } from './helpers/exchange.js';

function gql(body: unknown): CapturedExchange {
  return capturedExchange({
    host: 'api.example.com',
    method: 'POST',
    target: '/graphql',
    headers: [['content-type', 'application/json']],
    body: JSON.stringify(body),
  });
}
const rulesOf = (ex: CapturedExchange): string[] =>
  analyzeExchange(ex, resolveConfig({}).analysis, [d]).findings.map((f) => f.ruleId);
const nested = (depth: number): string => {
  let q = 'id';
  for (let i = 0; i < depth; i++) q = `f${i} { ${q} }`;
  return `query { ${q} }`;
};

describe('GraphQL abuse detector', () => {
  it('flags introspection', () => {
    assert.deepEqual(rulesOf(gql({ query: '{ __schema { types { name } } }' })), ['ST-GQL-001']);
    assert.deepEqual(rulesOf(gql({ query: '{ __type(name: "User") { name } }' })), ['ST-GQL-001']);
  });
  it('flags depth beyond the limit, not a normal query', () => {
    assert.deepEqual(rulesOf(gql({ query: nested(GRAPHQL_LIMITS.depth + 5) })), ['ST-GQL-002']);
    assert.deepEqual(rulesOf(gql({ query: nested(6) })), []);
  });
  it('flags alias batching', () => {
    const q = `mutation { ${Array.from({ length: 60 }, (_, i) => `a${i}: login(user: "admin", pass: "p${i}") { token }`).join(' ')} }`;
    assert.deepEqual(rulesOf(gql({ query: q })), ['ST-GQL-003']);
    assert.deepEqual(rulesOf(gql({ query: '{ small: product(id: 1) { name } big: product(id: 2) { name } }' })), []);
  });
  it('flags array batching', () => {
    assert.deepEqual(rulesOf(gql(Array.from({ length: 40 }, () => ({ query: '{ me { id } }' })))), ['ST-GQL-004']);
    assert.deepEqual(rulesOf(gql([{ query: '{ me { id } }' }, { query: '{ cart { total } }' }])), []);
  });
  it('leaves an ordinary operation alone', () => {
    assert.deepEqual(
      rulesOf(
        gql({
          query: 'query Cart($id: ID!) { cart(id: $id) { items { sku qty price } total } }',
          variables: { id: '7' },
        }),
      ),
      [],
    );
  });
  it('is request-level only', () => {
    assert.equal(d.inspectPoint, undefined);
  });
});
