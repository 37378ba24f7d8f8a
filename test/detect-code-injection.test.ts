import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DetectContext, Point } from '../src/core/model.js';
import { codeInjectionDetector } from '../src/detect/detect-code-injection.js';
import { itFlagsAndSpares } from './helpers/detect-point.js';

function inspect(value: string) {
  const ctx: DetectContext = {
    sensitivity: 'default',
    deadline: Number.POSITIVE_INFINITY,
    request: { method: 'GET', host: 'h', path: '/', normalizedPath: '/', headers: [], points: [], anomalies: [] },
  };
  const point: Point = { location: 'body.form.code', value, chain: [], kind: 'value' };
  return codeInjectionDetector.inspectPoint!(point, ctx);
}

const ATTACKS: Array<[string, string]> = [
  ['<?php system("ls"); ?>', 'ST-CODE-001'],
  ['<?=$_GET["data"]?>', 'ST-CODE-001'],
  ['<?xml :system("ls");', 'ST-CODE-001'],
  ['eval(gzinflate(str_rot13(base64_decode("aGVsbG8="))))', 'ST-CODE-002'],
  ['@passthru($_REQUEST["c"])', 'ST-CODE-002'],
  ['$_SERVER["HTTP_USER_AGENT"];', 'ST-CODE-003'],
  ["__import__('os').system('id')", 'ST-CODE-004'],
  ["{{ ''.__class__.__mro__[1].__subclasses__() }}", 'ST-CODE-004'],
  ["require('child_process').execSync('id').toString()", 'ST-CODE-005'],
  ["this.constructor.constructor('return process')().mainModule.require('child_process')", 'ST-CODE-005'],
  ['@{[ system "id" ]}', 'ST-CODE-006'],
  ['Process.spawn("id")', 'ST-CODE-006'],
  ['Runtime.getRuntime().exec("id")', 'ST-CODE-007'],
  ['while(!0);', 'ST-CODE-008'],
];

const BENIGN = [
  'the system (as a whole) works',
  'include the receipt (please)',
  "I'll require (at least) two days",
  '<?xml version="1.0" encoding="UTF-8"?><order><id>5</id></order>',
  'Please exec(ute) the plan by Friday',
  'glob patterns like *.txt are handy',
  'The price is $5 (incl. tax) [approx]',
  'while (you wait), grab a coffee',
  'Send $_ to the team? (typo)',
  '```js\nconst { exec } = require("child_process");\nexec("ls");\n```\nThis is how the docs do it, see the link above please.',
];

describe('code injection detector', () => {
  itFlagsAndSpares({ attackType: 'code_injection', inspect: (v) => inspect(v), attacks: ATTACKS, benign: BENIGN });
  it('survives adversarial input', () => {
    assert.ok(Array.isArray(inspect('('.repeat(1 << 20))));
    assert.ok(Array.isArray(inspect('<?'.repeat(200_000))));
    assert.ok(Array.isArray(inspect('system('.repeat(50_000))));
  });
});
