import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DetectContext, Point, Sensitivity } from '../src/core/model.js';
import { rceDetector } from '../src/detect/detect-rce.js';
import { nestedArithmetic } from '../src/detect/rce-arith-expansion.js';

function inspect(value: string, sensitivity: Sensitivity = 'default') {
  const ctx: DetectContext = {
    sensitivity,
    deadline: Number.POSITIVE_INFINITY,
    request: { method: 'GET', host: 'h', path: '/', normalizedPath: '/', headers: [], points: [], anomalies: [] },
  };
  const point: Point = { location: 'query.calc', value, chain: [], kind: 'value' };
  return rceDetector.inspectPoint!(point, ctx);
}

describe('command substitution inside arithmetic expansion (ST-RCE-002)', () => {
  it('flags an empty substitution inside $(( )) (CRS 932130)', () => {
    const hit = inspect('$(($() 42))').find((h) => h.ruleId === 'ST-RCE-002');
    assert.equal(hit?.fragment, '$(($() 42))');
  });

  it('flags substitutions anywhere in the expression', () => {
    for (const v of ['x=$(( $(id -u) + 1 ))', '$((1+$(printf 41)))', 'a;echo $((  $( ) * 7 ))']) {
      assert.equal(nestedArithmetic(v).length, 1, v);
    }
  });

  it('leaves flat arithmetic and prose with parentheses to the other rules', () => {
    assert.deepEqual(nestedArithmetic('$((7*7))'), []);
    assert.deepEqual(nestedArithmetic('costs $((approx) 42)'), []);
    assert.deepEqual(nestedArithmetic('price ($) (42)'), []);
    assert.deepEqual(inspect('The total (in $) was (42), see ((note))'), []);
  });
});
