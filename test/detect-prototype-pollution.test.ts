import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prototypePollutionDetector as d } from '../src/detect/detect-prototype-pollution.js';
import { resolveConfig } from '../src/config/config.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';
import type { CapturedExchange } from '../src/core/model.js';
import { hostile, inspectValue, rulesFor } from './helpers/detect-point.js';
import { capturedExchange } from './helpers/exchange.js';

function exchange(target: string, body = ''): CapturedExchange {
  return capturedExchange({ target, headers: body ? [['content-type', 'application/json']] : [], body });
}
const rulesOf = (ex: CapturedExchange): string[] =>
  analyzeExchange(ex, resolveConfig({}).analysis, [d]).findings.map((f) => f.ruleId);

describe('prototype pollution detector', () => {
  it('flags key paths end to end (query brackets, dots, JSON)', () => {
    assert.ok(rulesOf(exchange('/?__proto__[isAdmin]=true')).includes('ST-PP-001'));
    assert.ok(rulesOf(exchange('/?__proto__.isAdmin=true')).includes('ST-PP-001'));
    assert.ok(rulesOf(exchange('/?constructor[prototype][isAdmin]=true')).includes('ST-PP-002'));
    assert.ok(rulesOf(exchange('/api', '{"a":1,"__proto__":{"isAdmin":true}}')).includes('ST-PP-001'));
    assert.ok(rulesOf(exchange('/api', '{"constructor":{"prototype":{"x":1}}}')).includes('ST-PP-002'));
  });
  it('does not flag a plain constructor key', () => {
    assert.deepEqual(rulesOf(exchange('/api', '{"constructor":"Ford","model":"T"}')), []);
    assert.deepEqual(rulesFor(d, 'constructor', { location: 'body.json.constructor', kind: 'key' }), []);
  });
  const attacks: Array<[string, string]> = [
    ['{"__proto__":{"isAdmin":true}}', 'ST-PP-003'],
    ['a[__proto__][polluted]=yes', 'ST-PP-003'],
    ['x[constructor][prototype][polluted]=1', 'ST-PP-003'],
    ['constructor.prototype.isAdmin=true', 'ST-PP-003'],
    ['__\\u0070roto__.foo=bar', 'ST-PP-003'],
  ];
  for (const [value, rule] of attacks)
    it(`flags ${value}`, () => assert.ok(rulesFor(d, value).includes(rule), `${rulesFor(d, value)}`));
  const benign = [
    'proto',
    'prototype',
    'The prototype ships in May',
    'Object.prototype is shared by all objects',
    'protocol buffers',
  ];
  for (const value of benign) it(`leaves ${value} alone`, () => assert.deepEqual(rulesFor(d, value), []));
  it('survives 1 MB of proto keys', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile('__proto__['))));
  });
});
