import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sstiDetector as d } from '../src/detect/detect-ssti.js';
import { hostile, inspectValue, rulesFor } from './helpers/detect-point.js';

describe('SSTI / expression-language injection', () => {
  const attacks: Array<[string, string]> = [
    ['{{7*7}}', 'ST-SSTI-001'],
    ["{{7*'7'}}", 'ST-SSTI-001'],
    ['${7*7}', 'ST-SSTI-001'],
    ['#{7*7}', 'ST-SSTI-001'],
    ['<%= 7*7 %>', 'ST-SSTI-001'],
    ['{% if True %}49{% endif %}', 'ST-SSTI-003'],
    ['<%= if True %>49<% endif %>', 'ST-SSTI-003'],
    ["{{''.__class__.__mro__[1].__subclasses__()}}", 'ST-SSTI-002'],
    ["{{config.__class__.__init__.__globals__['os'].popen('id').read()}}", 'ST-SSTI-002'],
    ['{{_self.env.registerUndefinedFilterCallback("exec")}}', 'ST-SSTI-002'],
    ["{{['id']|filter('system')}}", 'ST-SSTI-002'],
    ['<#assign ex="freemarker.template.utility.Execute"?new()> ${ex("id")}', 'ST-SSTI-002'],
    ['#set($x=$e.getClass().forName("java.lang.Runtime"))', 'ST-SSTI-004'],
    ["<%= system('id') %>", 'ST-SSTI-002'],
    ['<%= `id` %>', 'ST-SSTI-002'],
    ['{{#with "s" as |string|}}{{/with}}', 'ST-SSTI-003'],
    ['{php}echo `id`;{/php}', 'ST-SSTI-002'],
    ["${T(java.lang.Runtime).getRuntime().exec('id')}", 'ST-SSTI-004'],
    ["%{(#_memberAccess['allowStaticMethodAccess']=true).(@java.lang.Runtime@getRuntime().exec('id'))}", 'ST-SSTI-004'],
    ['__${T(java.lang.Runtime).getRuntime().exec("id")}__::.x', 'ST-SSTI-002'],
    ['&#x7B;&#x7B;7*7&#x7D;&#x7D;', 'ST-SSTI-001'],
    ['%7b%7b7*7%7d%7d', 'ST-SSTI-001'],
  ];
  for (const [value, rule] of attacks) {
    it(`flags ${value} (${rule})`, () => assert.ok(rulesFor(d, value).includes(rule), `${rulesFor(d, value)}`));
  }
  it('labels SpEL/OGNL gadgets expression_injection', () => {
    const hit = inspectValue(d, "T(java.lang.Runtime).getRuntime().exec('id')").find((h) => h.ruleId === 'ST-SSTI-004');
    assert.equal(hit?.attackType, 'expression_injection');
  });
  const benign = [
    '{{username}}',
    '${price}',
    '#{name}',
    '<%=title%>',
    'Hello {{ user.first_name | capitalize }}!',
    '{% for item in cart %}{{ item.name }}{% endfor %}',
    'Price: ${product.price} (incl. VAT)',
    'Use #{symbol} for interpolation in Ruby',
    'function f() { return `${a}-${b}`; }',
    'email me @ ana@example.com (work)',
    '50% off {today only}',
  ];
  for (const value of benign) it(`leaves ${value} alone`, () => assert.deepEqual(rulesFor(d, value), []));
  it('survives 1 MB of unclosed delimiters', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile('{{'))));
    assert.ok(Array.isArray(inspectValue(d, hostile('${'))));
    assert.ok(Array.isArray(inspectValue(d, hostile('<%'))));
  });
});
