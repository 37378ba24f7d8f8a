import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../src/config/config.js';
import type { CapturedExchange, Detector, Hit, Point } from '../src/core/model.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';
import { createPointCache, MAX_CACHED_VALUE_CHARS } from '../src/detect/point-cache.js';
import { capturedExchange } from './helpers/exchange.js';

function exchange(target: string, host = 'a.example'): CapturedExchange {
  return capturedExchange({ id: target, host, target });
}

/** A detector that flags values containing "evil" and records every value it was asked about. */
function countingDetector() {
  const seen: string[] = [];
  const detector: Detector = {
    id: 'counting',
    inspectPoint(point: Point) {
      if (!point.location.startsWith('query.')) return [];
      seen.push(`${point.kind}:${point.value}`);
      return point.value.includes('evil')
        ? [
            {
              attackType: 'test',
              ruleId: 'T-1',
              severity: 'high',
              confidence: 0.9,
              fragment: point.value,
              reason: 'evil',
            },
          ]
        : [];
    },
  };
  return { detector, seen };
}

describe('analyzeExchange point cache', () => {
  it('judges a repeated value once per host and still reports it at every occurrence', () => {
    const config = resolveConfig({ analysis: { limits: { budgetMs: 10_000 } } }).analysis;
    const { detector, seen } = countingDetector();
    const detectors = [detector];
    const first = analyzeExchange(exchange('/?q=evil1&x=ok'), config, detectors);
    const second = analyzeExchange(exchange('/p?q=evil1&x=ok'), config, detectors);
    const otherHost = analyzeExchange(exchange('/?q=evil1&x=ok', 'b.example'), config, detectors);
    for (const r of [first, second, otherHost]) {
      assert.deepEqual(
        r.findings.map((f) => [f.ruleId, f.location]),
        [['T-1', 'query.q']],
      );
    }
    // value + key of q and x, judged for a.example once and for b.example once.
    assert.equal(seen.filter((v) => v === 'value:evil1').length, 2);
    assert.equal(seen.filter((v) => v === 'value:ok').length, 2);
  });

  it('is off with pointCacheSize 0, and skips values too long to be worth caching', () => {
    const off = resolveConfig({ analysis: { pointCacheSize: 0 } }).analysis;
    const a = countingDetector();
    analyzeExchange(exchange('/?q=evil'), off, [a.detector]);
    analyzeExchange(exchange('/?q=evil'), off, [a.detector]);
    assert.equal(a.seen.filter((v) => v === 'value:evil').length, 2);

    const on = resolveConfig().analysis;
    const b = countingDetector();
    const long = `evil${'x'.repeat(MAX_CACHED_VALUE_CHARS)}`;
    analyzeExchange(exchange(`/?q=${long}`), on, [b.detector]);
    analyzeExchange(exchange(`/?q=${long}`), on, [b.detector]);
    assert.equal(b.seen.filter((v) => v === `value:${long}`).length, 2);
  });

  it('does not remember a point whose analysis the budget cut short', () => {
    const config = resolveConfig({ analysis: { limits: { budgetMs: 5 } } }).analysis;
    let calls = 0;
    const slow: Detector = {
      id: 'slow',
      inspectPoint(point) {
        if (point.location !== 'query.q' || point.kind !== 'value') return [];
        calls++;
        const until = performance.now() + 20;
        while (performance.now() < until) {
          // burn the budget
        }
        return [];
      },
    };
    // A detector that overran may have stopped early (they watch ctx.deadline), so what it
    // returned is not a verdict to reuse: the second request asks again.
    analyzeExchange(exchange('/?q=slow'), config, [slow]);
    analyzeExchange(exchange('/?q=slow'), config, [slow]);
    assert.equal(calls, 2);
  });

  const at = (location: string) => ({ host: 'a.example', kind: 'value', location });

  it('keeps recently used entries and drops the ones not used for two generations', () => {
    const cache = createPointCache(4); // generations of 2 entries
    cache.set(at('q'), 'a', []);
    cache.set(at('q'), 'b', []); // young full: {a, b} becomes old
    cache.set(at('q'), 'c', []);
    assert.ok(cache.get(at('q'), 'a')); // promoted: young {c, a} becomes old, {a, b} dropped
    cache.set(at('q'), 'd', []);
    cache.set(at('q'), 'e', []); // young {d, e} becomes old, {c, a} dropped
    assert.equal(cache.get(at('q'), 'b'), undefined);
    assert.equal(cache.get(at('q'), 'c'), undefined);
    assert.ok(cache.get(at('q'), 'e'), 'an entry of the old generation is still served');
    assert.ok(cache.size <= 4);
  });

  it('tells apart the same value at another location, kind or host', () => {
    const cache = createPointCache(100);
    const hit = [{ ruleId: 'X' }] as unknown as Hit[];
    cache.set(at('q'), 'same', hit);
    assert.equal(cache.get(at('q'), 'same'), hit);
    assert.equal(cache.get(at('r'), 'same'), undefined);
    assert.equal(cache.get({ ...at('q'), kind: 'key' }, 'same'), undefined);
    assert.equal(cache.get({ ...at('q'), host: 'b.example' }, 'same'), undefined);
    cache.set(at('r'), 'same', []);
    assert.equal(cache.get(at('q'), 'same'), hit);
    assert.deepEqual(cache.get(at('r'), 'same'), []);
  });

  it('holds nothing when its size is 0', () => {
    const cache = createPointCache(0);
    cache.set(at('q'), 'a', []);
    assert.equal(cache.get(at('q'), 'a'), undefined);
    assert.equal(cache.size, 0);
  });
});
