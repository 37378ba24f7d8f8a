import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../src/config/config.js';
import type { CapturedExchange } from '../src/core/model.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';
import { capturedExchange } from './helpers/exchange.js';

function post(body: string, contentType = 'application/x-www-form-urlencoded'): CapturedExchange {
  return capturedExchange({
    id: 'adv',
    clientIp: '127.0.0.1',
    host: 'h',
    method: 'POST',
    target: '/x',
    headers: [
      ['host', 'h'],
      ['content-type', contentType],
    ],
    body,
  });
}

const ADVERSARIAL: Array<[string, string]> = [
  ['1 MB of quotes', `q=${"'".repeat(1 << 20)}`],
  ['100k nested parentheses', `q=${'('.repeat(100_000)}1${')'.repeat(100_000)}`],
  ['1 MB of <', `q=${'<'.repeat(1 << 20)}`],
  ['200k shell substitutions', `q=${'$('.repeat(200_000)}`],
];

describe('per-request budget with adversarial input', () => {
  for (const [name, body] of ADVERSARIAL) {
    it(`${name}: analysis ends with findings or a budget_exceeded anomaly`, () => {
      // Tiny budget: the request must be cut, reported, and not throw.
      const tight = resolveConfig({
        analysis: { limits: { budgetMs: 1, maxValueBytes: 2 * 1024 * 1024, maxBodyBytes: 4 * 1024 * 1024 } },
      }).analysis;
      const r = analyzeExchange(post(body), tight);
      assert.ok(Array.isArray(r.findings));
      if (r.budgetExceeded) assert.ok(r.anomalies.some((a) => a.code === 'budget_exceeded'));
    });
  }
  it('a payload behind a long benign prefix is still found within a normal budget', () => {
    const generous = resolveConfig({ analysis: { limits: { budgetMs: 10_000 } } }).analysis;
    const r = analyzeExchange(post(`q=${encodeURIComponent('lorem ipsum '.repeat(2000) + "' OR 1=1--")}`), generous);
    assert.ok(r.findings.some((f) => f.attackType === 'sqli'));
    assert.equal(r.budgetExceeded, false);
  });
});
