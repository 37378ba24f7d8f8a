import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nosqlDetector as d } from '../src/detect/detect-nosql.js';
import { resolveConfig } from '../src/config/config.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';
import type { CapturedExchange } from '../src/core/model.js';
import { hostile, inspectValue, rulesFor } from './helpers/detect-point.js';
import { capturedExchange } from './helpers/exchange.js';

function exchange(target: string, body = '', contentType = 'application/json'): CapturedExchange {
  return capturedExchange({ target, headers: body ? [['content-type', contentType]] : [], body });
}
const rulesOf = (ex: CapturedExchange): string[] =>
  analyzeExchange(ex, resolveConfig({}).analysis, [d]).findings.map((f) => f.ruleId);

describe('NoSQL injection detector', () => {
  it('flags operator keys in query strings, forms and JSON (end to end)', () => {
    assert.ok(rulesOf(exchange('/login?user[$ne]=x&pass[$ne]=x')).includes('ST-NOSQL-001'));
    assert.ok(
      rulesOf(exchange('/login', 'user[$gt]=&pass=x', 'application/x-www-form-urlencoded')).includes('ST-NOSQL-001'),
    );
    assert.ok(
      rulesOf(exchange('/api/login', '{"username":{"$ne":null},"password":{"$ne":null}}')).includes('ST-NOSQL-001'),
    );
    assert.ok(rulesOf(exchange('/api/find', '{"$where":"this.role == \'admin\'"}')).includes('ST-NOSQL-002'));
  });
  it('judges key points directly', () => {
    assert.deepEqual(rulesFor(d, '$ne', { location: 'query.user.$ne', kind: 'key' }), ['ST-NOSQL-001']);
    assert.deepEqual(rulesFor(d, '$where', { location: 'body.json.$where', kind: 'key' }), ['ST-NOSQL-002']);
    assert.deepEqual(rulesFor(d, 'username__startswith', { location: 'query.username__startswith', kind: 'key' }), [
      'ST-NOSQL-004',
    ]);
  });
  const attacks: Array<[string, string]> = [
    ['{"$ne": null}', 'ST-NOSQL-001'],
    ['{"$regex": ".*"}', 'ST-NOSQL-001'],
    ['{"$where": "sleep(5000)"}', 'ST-NOSQL-002'],
    ["' || '1'=='1", 'ST-NOSQL-003'],
    ["'; return true; var x='", 'ST-NOSQL-003'],
    ["true, $where: '1 == 1'", 'ST-NOSQL-002'],
    ['user[$ne]=admin', 'ST-NOSQL-001'],
    ['db.users.find()', 'ST-NOSQL-003'],
  ];
  for (const [value, rule] of attacks) {
    it(`flags ${value} (${rule})`, () => assert.ok(rulesFor(d, value).includes(rule), `${rulesFor(d, value)}`));
  }
  const benign: Array<[string, string?, 'key'?]> = [
    ['The $ne operator matches values not equal to a given value'],
    ['costs $5 or $10'],
    ['{"price": 5, "currency": "$"}'],
    ['$gt', 'body.json.note'],
    ['created_at', 'query.created_at', 'key'],
    ['use field__startswith for filtering'],
    ['constructor', 'body.json.constructor', 'key'],
    ["It's John's"],
  ];
  for (const [value, location, kind] of benign) {
    it(`leaves ${value} alone`, () =>
      assert.deepEqual(rulesFor(d, value, { location: location ?? 'query.q', kind: kind ?? 'value' }), []));
  }
  it('survives 1 MB of dollar keys', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile('{"$ne":'))));
  });
});
