import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { deserializationDetector as d, hasBase64Run } from '../src/detect/detect-deserialization.js';
import { hostile, inspectValue, rulesFor } from './helpers/detect-point.js';

describe('deserialization detector', () => {
  const attacks: Array<[string, string, string?]> = [
    ['rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZZTaMLT7P4KxAwACSQAEc2l6ZQ==', 'ST-DESER-001'],
    ['aced0005737200116a6176612e7574696c2e48617368536574', 'ST-DESER-001'],
    ['KztAAU', 'ST-DESER-001'],
    ['org.apache.commons.collections.functors.InvokerTransformer', 'ST-DESER-002'],
    ['ProcessBuilder.evil.whileclosure', 'ST-DESER-002'],
    ['java.lang.Runtime', 'ST-DESER-002'],
    ['com.sun.rowset.JdbcRowSetImpl', 'ST-DESER-003', 'body.json.@type'],
    ['{"@type":"com.sun.rowset.JdbcRowSetImpl","dataSourceName":"ldap://x/E"}', 'ST-DESER-002'],
    ['O:8:"stdClass":1:{s:4:"test";s:4:"data";}', 'ST-DESER-004'],
    ['a:2:{i:0;s:4:"user";i:1;O:4:"User":1:{s:7:"isAdmin";b:1;}}', 'ST-DESER-004'],
    ['AAEAAAD/////AQAAAAAAAAAMAgAAAF9TeXN0ZW0u', 'ST-DESER-005'],
    ['{"$type":"System.Windows.Data.ObjectDataProvider, PresentationFramework"}', 'ST-DESER-005'],
    ['!!python/object/apply:os.system ["id"]', 'ST-DESER-006'],
    ["cos\nsystem\n(S'id'\ntR.", 'ST-DESER-006'],
    ['Y29zCnN5c3RlbQooUydpZCcKdFIu', 'ST-DESER-006'],
    ['--- !ruby/object:Gem::Installer', 'ST-DESER-002'],
    ['java.io.BufferedReader', 'ST-DESER-007'],
    ['cnVudGltZQ', 'ST-DESER-008'],
    ['aW52b2tlcnRyYW5zZm9ybWVy', 'ST-DESER-008'],
    ['{"rce":"_$$ND_FUNC$$_function(){require(\'child_process\').exec(\'id\')}()"}', 'ST-DESER-002'],
  ];
  for (const [value, rule, location] of attacks) {
    it(`flags ${value.slice(0, 50)} (${rule})`, () => {
      const got = rulesFor(d, value, location ? { location } : {});
      assert.ok(got.includes(rule), `${got}`);
    });
  }
  it('checks the declared PHP class-name length', () => {
    const exact = inspectValue(d, 'O:4:"User":0:{}')[0];
    const wrong = inspectValue(d, 'O:9:"User":0:{}', { sensitivity: 'high' })[0];
    assert.ok(exact!.confidence > wrong!.confidence);
  });
  const benign = [
    'I got a java.io.FileNotFoundException when saving',
    'My favourite runtime is Node.js',
    'eyJydW50aW1lIjoibm9kZWpzMTgueCIsIm1lbW9yeSI6MTI4fQ==',
    'O: 8 items in the cart',
    'a:hover { color: red }',
    'Session id 7f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c',
    'Process builder workshop on Tuesday',
    '{"type":"order","class":"premium"}',
    'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  ];
  for (const value of benign) it(`leaves ${value.slice(0, 50)} alone`, () => assert.deepEqual(rulesFor(d, value), []));
  it('base64 pre-filter: finds exactly the runs a regular expression finds', () => {
    const alphabet = fc.constantFrom('a', 'Z', '0', '9', '+', '/', '=', '-', '_', ' ', '.', '\u00e9');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), fc.integer({ min: 1, max: 12 }), (chars, n) => {
        const v = chars.join('');
        assert.equal(hasBase64Run(v, n), new RegExp(`[A-Za-z0-9+/]{${n}}`).test(v), JSON.stringify([v, n]));
      }),
      { numRuns: 5000 },
    );
  });
  it('base64 pre-filter keeps every keyword at every alignment, inside prose', () => {
    const words = ['runtime', 'getruntime', 'processbuilder', 'invokertransformer', 'whileclosure', 'Runtime'];
    for (const word of words) {
      for (const pad of ['', 'x', 'xy']) {
        const b64 = Buffer.from(pad + word).toString('base64');
        // `runtime` counts only in a short run, which the pads keep it in.
        const got = rulesFor(d, `see ${b64} here`);
        assert.ok(got.includes('ST-DESER-008'), `${word}/${pad}: ${b64} → ${got}`);
      }
    }
    const pickle = Buffer.from("cos\nsystem\n(S'id'\ntR.").toString('base64');
    assert.ok(rulesFor(d, `x ${pickle}`).includes('ST-DESER-006'));
  });
  it('survives 1 MB of base64', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile('QUJD'))));
  });
});
