import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crlfDetector as d } from '../src/detect/detect-crlf.js';
import { hostile, inspectValue, rulesFor } from './helpers/detect-point.js';

describe('CRLF / header injection detector', () => {
  const attacks: Array<[string, string, string?, 'key'?]> = [
    ['x\r\nSet-Cookie: admin=true', 'ST-CRLF-001'],
    ['%0d%0aLocation:%20https://attacker.example/', 'ST-CRLF-001'],
    ['%E5%98%8A%E5%98%8DSet-Cookie:%20crlf=injection', 'ST-CRLF-001'],
    ['%250d%250aSet-Cookie:%20x=y', 'ST-CRLF-001'],
    ['x\r\n\r\n<html>owned</html>', 'ST-CRLF-002'],
    ['x\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK', 'ST-CRLF-002'],
    ['victim@example.com\nBcc: everyone@example.com', 'ST-CRLF-003', 'body.form.email'],
    ['Hello\r\nSubject: cheap watches', 'ST-CRLF-003', 'body.form.subject'],
    ['Headerdata%0dInjectedHeader: response_splitting_code', 'ST-CRLF-001', 'header.someheader'],
    ['parameter\r\n', 'ST-CRLF-004', 'query.parameter\r\n', 'key'],
    ['/foo\nbar', 'ST-CRLF-004', 'path.raw'],
    ['test\rnext=more', 'ST-CRLF-004'],
    ['GET http://www.foo.bar HTTP/1.1', 'ST-CRLF-005'],
  ];
  for (const [value, rule, location, kind] of attacks) {
    it(`flags ${JSON.stringify(value)} (${rule})`, () => {
      const got = rulesFor(d, value, { location: location ?? 'query.q', kind: kind ?? 'value' });
      assert.ok(got.includes(rule), `${got}`);
    });
  }
  const benign: Array<[string, string?]> = [
    ['Dear team,\nthe order shipped.\nRegards, Ana', 'body.json.comment'],
    ['Line one\r\nLine two', 'body.form.message'],
    ['Name: John\nPhone: 555-0100\nNote: ring twice\nThanks', 'body.form.notes'],
    ['Visit https://example.com today'],
    ['Total: 5 items'],
    ['The HTTP/1.1 spec is RFC 9112'],
  ];
  for (const [value, location] of benign) {
    it(`leaves ${JSON.stringify(value)} alone`, () =>
      assert.deepEqual(rulesFor(d, value, { location: location ?? 'query.q' }), []));
  }
  it('does not report a bare newline in a query value (GET forms with a textarea), even at high', () => {
    assert.deepEqual(rulesFor(d, 'first\nsecond'), []);
    assert.deepEqual(rulesFor(d, 'first\nsecond', { sensitivity: 'high' }), []);
  });
  it('survives 1 MB of line breaks', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile('a\r\n'))));
    assert.ok(Array.isArray(inspectValue(d, hostile('%0d%0a'))));
  });
});
