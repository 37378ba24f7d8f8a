import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DetectContext, Point, Sensitivity } from '../src/core/model.js';
import { xssDetector } from '../src/detect/detect-xss.js';
import { taggedTemplateCall } from '../src/detect/xss-tagged-call.js';

function inspect(value: string, sensitivity: Sensitivity = 'default') {
  const ctx: DetectContext = {
    sensitivity,
    deadline: Number.POSITIVE_INFINITY,
    request: { method: 'GET', host: 'h', path: '/', normalizedPath: '/', headers: [], points: [], anomalies: [] },
  };
  const point: Point = { location: 'query.test', value, chain: [], kind: 'value' };
  return xssDetector.inspectPoint!(point, ctx);
}

describe('parenthesis-less call through a tagged template (ST-XSS-005)', () => {
  it('flags a value that is a tagged-template call on .call/.apply (CRS 941400)', () => {
    const hit = inspect('Reflect.sort.call``').find((h) => h.ruleId === 'ST-XSS-005');
    assert.equal(hit?.fragment, 'Reflect.sort.call``');
    for (const v of ['[].sort.call`1337`', 'Reflect.apply.call`${navigation.navigate}${navigation}${[name]}`;']) {
      assert.equal(taggedTemplateCall(v).length, 1, v);
    }
    // As sent in a query string.
    assert.ok(inspect('Reflect.sort.call%60%60').some((h) => h.ruleId === 'ST-XSS-005'));
  });

  it('leaves markdown code spans and prose about .call alone', () => {
    for (const v of [
      'use `Array.prototype.slice.call` here',
      '`fn.call`',
      'fn.call`` is a tagged template, see the docs',
      'Function.prototype.call',
      'x.bind`y`',
    ]) {
      assert.deepEqual(taggedTemplateCall(v), [], v);
    }
    assert.deepEqual(inspect('use `Array.prototype.slice.call` and `arguments` here'), []);
  });
});
