import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xpathDetector as d } from '../src/detect/detect-xpath.js';
import { hostile, inspectValue, rulesFor } from './helpers/detect-point.js';

describe('XPath injection detector', () => {
  const attacks = [
    "' or '1'='1' or count(/*)='1",
    "x' or name()='username' or 'x'='y",
    "']|//*|//*['",
    "' or count(/child::node())=1 or '1'='2",
    "' and string-length(name(/*[1]))=4 and '1'='1",
    "' and substring(name(/*[1]),1,1)='u' and '1'='1",
    "') or string-length(//user[1]/password)=8 or ('1'='2",
    "' or doc('http://attacker.example/x') or '",
  ];
  for (const value of attacks) it(`flags ${value}`, () => assert.deepEqual(rulesFor(d, value), ['ST-XPATH-001']));
  it('reports bare XPath syntax only as low-confidence', () => {
    assert.deepEqual(rulesFor(d, '/descendant::node()'), ['ST-XPATH-002']);
    assert.deepEqual(rulesFor(d, 'count(//user)'), []);
  });
  const benign = [
    "It's a 'nice' day, or so they say",
    'https://example.com/a/b',
    'He said "yes" and left (quickly)',
    'name (optional)',
    "O'Brien and Sons",
    "if (a === 'b' || c) { return count(x) }",
  ];
  for (const value of benign) it(`leaves ${value} alone`, () => assert.deepEqual(rulesFor(d, value), []));
  it('survives 1 MB of brackets', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile("']|//*["))));
  });
});
