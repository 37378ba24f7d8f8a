import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hitCollector, percentDecodeDeep, percentDecodeOnce, reported, type Rule } from '../src/detect/detect-kit.js';

const RULE: Rule = { id: 'ST-TEST-001', attackType: 'test', severity: 'low' };

describe('detect-kit', () => {
  it('keeps one hit per rule, the most confident', () => {
    const c = hitCollector({ sensitivity: 'default' });
    c.add(RULE, 0.7, 'a', 'first');
    c.add(RULE, 0.9, 'b', 'second');
    c.add(RULE, 0.8, 'c', 'third');
    assert.equal(c.hits.length, 1);
    assert.equal(c.hits[0]?.fragment, 'b');
  });
  it('drops hits under the shared sensitivity floor', () => {
    const c = hitCollector({ sensitivity: 'low' });
    c.add(RULE, 0.7, 'a', 'weak');
    assert.deepEqual(c.hits, []);
    assert.equal(reported({ sensitivity: 'high' }, 0.4), true);
    assert.equal(reported({ sensitivity: 'default' }, 0.59), false);
  });
  it('maps overlong UTF-8 and %u escapes to the ASCII they smuggle', () => {
    assert.equal(percentDecodeOnce('%c0%ae%c0%ae%c0%af'), '../');
    assert.equal(percentDecodeOnce('%e0%80%ae'), '.');
    assert.equal(percentDecodeOnce('%u002e%u002E'), '..');
    assert.equal(percentDecodeOnce('caf%C3%A9'), 'café');
    assert.equal(percentDecodeOnce('100% sure %zz'), '100% sure %zz');
  });
  it('counts the rounds of percent-encoding it peeled', () => {
    assert.deepEqual(percentDecodeDeep('%25252e'), { value: '.', rounds: 3 });
    assert.deepEqual(percentDecodeDeep('plain'), { value: 'plain', rounds: 0 });
  });
});
