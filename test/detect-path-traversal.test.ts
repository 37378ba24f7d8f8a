import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathTraversalDetector as d } from '../src/detect/detect-path-traversal.js';
import { detectCtx, hostile, inspectValue, rulesFor } from './helpers/detect-point.js';

describe('path traversal / LFI', () => {
  const attacks: Array<[string, string, string?]> = [
    ['../../../etc/passwd', 'ST-LFI-001'],
    ['..\\..\\..\\windows\\win.ini', 'ST-LFI-001'],
    ['%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'ST-LFI-001'],
    ['%252e%252e%252f%252e%252e%252fetc%252fpasswd', 'ST-LFI-001'],
    ['%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', 'ST-LFI-001'],
    ['%uff0e%uff0e%u2215%uff0e%uff0e%u2215etc%u2215passwd', 'ST-LFI-001'],
    ['..;/..;/etc/passwd', 'ST-LFI-001'],
    ['.../.../WINDOWS/win.ini', 'ST-LFI-002'],
    ['/etc/passwd', 'ST-LFI-002'],
    ['C:\\boot.ini', 'ST-LFI-002'],
    ['cat /root/.ssh/id_rsa', 'ST-LFI-002', 'header.user-agent'],
    ['/proc/self/environ', 'ST-LFI-002'],
    ['php://filter/convert.base64-encode/resource=index.php', 'ST-LFI-004'],
    ['expect://id', 'ST-LFI-004'],
    ['../../../../boot.ini%00', 'ST-LFI-001'],
    ['../1.7z', 'ST-LFI-001', 'body.multipart.file.filename'],
    ['/get/.git/config', 'ST-LFI-003', 'path.raw'],
    ['/.env', 'ST-LFI-003', 'path.raw'],
    ['/wp-content/debug.log', 'ST-LFI-003', 'path.raw'],
    ['/.claude/settings.json', 'ST-LFI-003', 'path.raw'],
  ];
  for (const [value, rule, location] of attacks) {
    it(`flags ${value} (${rule})`, () => {
      assert.ok(
        rulesFor(d, value, location ? { location } : {}).includes(rule),
        `${value} → ${rulesFor(d, value, location ? { location } : {})}`,
      );
    });
  }

  const benign: Array<[string, string?]> = [
    ['report..final.pdf'],
    ['wait... what?'],
    ['see ../docs/readme.md for details'],
    ['https://example.com/a/b/c'],
    ['/get/..', 'path.raw'],
    ['/get/foo../1234', 'path.raw'],
    ['/get/..foo', 'path.raw'],
    ['/.well-known/openid-configuration', 'path.raw'],
    ['/jquery.history.min.js', 'path.raw'],
    ['The file is in C:\\Users\\ana\\Documents\\plan.docx'],
    ['My password file is called passwords.txt'],
    ['1.2.3'],
  ];
  for (const [value, location] of benign) {
    it(`leaves ${value} alone`, () => {
      assert.deepEqual(rulesFor(d, value, location ? { location } : {}), []);
    });
  }

  it('scores an embedded single ../ low (only high sensitivity reports it)', () => {
    assert.deepEqual(rulesFor(d, 'go to ../x', {}), []);
    assert.deepEqual(rulesFor(d, 'go to ../x', { sensitivity: 'high' }), ['ST-LFI-001']);
  });

  it('reports the hit with class, severity, confidence and fragment', () => {
    const [hit] = inspectValue(d, '../../../etc/passwd');
    assert.equal(hit?.attackType, 'path_traversal');
    assert.equal(hit?.severity, 'high');
    assert.ok(hit!.confidence >= 0.9);
    assert.equal(hit?.fragment, '../../../etc/passwd');
  });

  it('survives 1 MB of dots and slashes', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile('../'))));
    assert.ok(Array.isArray(inspectValue(d, hostile('%'))));
  });
});

describe('remote file inclusion', () => {
  const attacks: Array<[string, string, string?]> = [
    ['http://66.240.183.75/crash.php', 'ST-RFI-001'],
    ['https://[2001:41d0:701:1100::29c8]/gecko.php', 'ST-RFI-001'],
    ['http://evil.example.net/shell.txt?', 'ST-RFI-002'],
    ['http?', 'ST-RFI-002'],
    ['jar:http://evil.co/b.zip!a', 'ST-RFI-002'],
    ['url:file:///etc/passwd', 'ST-RFI-002'],
    ['https://foo.bar', 'ST-RFI-003', 'query.mosConfig_absolute_path'],
  ];
  for (const [value, rule, location] of attacks) {
    it(`flags ${value} (${rule})`, () => {
      assert.ok(
        rulesFor(d, value, location ? { location } : {}).includes(rule),
        `${rulesFor(d, value, location ? { location } : {})}`,
      );
    });
  }
  it('flags allow-list bypasses against the request host', () => {
    const onSite = (value: string): string[] =>
      d.inspectPoint!(
        { location: 'query.x', value, chain: ['url'], kind: 'value' },
        detectCtx('default', { host: 'example.com' }),
      ).map((h) => h.ruleId);
    assert.deepEqual(onSite('https://example.com.evil.com/'), ['ST-RFI-002']);
    assert.deepEqual(onSite('https://example.com:1234/'), ['ST-RFI-002']);
    assert.deepEqual(onSite('http://example.com/:foo@bar@evil.com/'), ['ST-RFI-002']);
    assert.deepEqual(onSite('ftp://files.example.net/pub/x.txt'), ['ST-RFI-002']);
    assert.deepEqual(onSite('https://example.com/account'), []);
    assert.deepEqual(onSite('https://medium.com/@ana/why-i-code-3f2a'), []);
    assert.deepEqual(onSite('https://mastodon.social/@ana@example.org'), []);
  });
  it('reports an ordinary off-site URL only at high sensitivity', () => {
    assert.deepEqual(rulesFor(d, 'https://foo.bar/page'), []);
    assert.deepEqual(rulesFor(d, 'https://foo.bar/page', { sensitivity: 'high' }), ['ST-RFI-004']);
  });
  it('leaves links with query strings alone', () => {
    assert.deepEqual(rulesFor(d, 'https://example.com/search?q=shoes'), []);
    assert.deepEqual(rulesFor(d, 'https://www.youtube.com/watch?v=dQw4w9WgXcQ'), []);
  });
});
