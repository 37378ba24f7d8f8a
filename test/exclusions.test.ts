import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../src/config/config.js';
import type { CapturedExchange } from '../src/core/model.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';
import { isExcluded } from '../src/detect/exclusions.js';
import { capturedExchange } from './helpers/exchange.js';

function exchange(target: string, host = 'shop.example.com:8443'): CapturedExchange {
  return capturedExchange({ id: 'x1', clientIp: '127.0.0.1', host, target, headers: [['host', host]] });
}

const ATTACK = `/admin/console?q=${encodeURIComponent("' OR 1=1--")}&name=bob`;

function sqliRules(exclusions: unknown[], target = ATTACK, host?: string): string[] {
  // A generous budget: the first call also pays for JIT warm-up.
  const analysis = resolveConfig({
    analysis: { exclusions: exclusions as never, limits: { budgetMs: 10_000 } },
  }).analysis;
  return analyzeExchange(exchange(target, host), analysis)
    .findings.filter((f) => f.attackType === 'sqli')
    .map((f) => `${f.ruleId}@${f.location}`);
}

describe('exclusions', () => {
  it('reports the tautology without exclusions', () => {
    assert.ok(sqliRules([]).includes('ST-SQLI-002@query.q'));
  });
  it('silences by host (port ignored, case-insensitive) and path prefix together', () => {
    assert.deepEqual(sqliRules([{ host: 'SHOP.example.com', pathPrefix: '/admin' }]), []);
    // Both fields must match: another path keeps the finding.
    assert.ok(sqliRules([{ host: 'shop.example.com', pathPrefix: '/api' }]).length > 0);
    assert.ok(sqliRules([{ host: 'other.example.com' }]).length > 0);
  });
  it('silences by location (exact or prefix*) and rule id (exact or prefix*)', () => {
    assert.deepEqual(sqliRules([{ location: 'query.q' }]), []);
    assert.deepEqual(sqliRules([{ location: 'query.*' }]), []);
    assert.ok(sqliRules([{ location: 'query.name' }]).length > 0);
    assert.deepEqual(sqliRules([{ ruleId: 'ST-SQLI-*' }]), []);
    const partial = sqliRules([{ ruleId: 'ST-SQLI-002' }]);
    assert.ok(!partial.some((r) => r.startsWith('ST-SQLI-002@')));
  });
  it('does not silence other detectors', () => {
    const analysis = resolveConfig({
      analysis: { exclusions: [{ ruleId: 'ST-SQLI-*' }], limits: { budgetMs: 10_000 } },
    }).analysis;
    const target = `/search?q=${encodeURIComponent('<script>alert(1)</script>')}`;
    const findings = analyzeExchange(exchange(target), analysis).findings;
    assert.ok(findings.some((f) => f.attackType === 'xss'));
  });
  it('isExcluded matches every set field', () => {
    const f = { location: 'body.json.a', ruleId: 'ST-XSS-002' };
    assert.equal(isExcluded([{ host: 'a.example', location: 'body.json.*' }], 'a.example:80', '/', f), true);
    assert.equal(isExcluded([{ host: 'a.example', location: 'body.form.*' }], 'a.example', '/', f), false);
    assert.equal(isExcluded([{ pathPrefix: '/x', ruleId: 'ST-XSS-002' }], 'h', '/y', f), false);
    assert.equal(isExcluded([{ host: '[::1]' }], '[::1]:8080', '/', f), true);
    assert.equal(isExcluded([], 'h', '/', f), false);
  });
});
