import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ssrfDetector as d } from '../src/detect/detect-ssrf.js';
import { classifyHost, parseHost, parseIpv4, parseIpv6, parseUrlLike } from '../src/detect/url-host.js';
import { hostile, inspectValue, rulesFor } from './helpers/detect-point.js';

describe('url-host parser', () => {
  const v4: Array<[string, string]> = [
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['169.254.43518', '169.254.169.254'],
    ['169.16689662', '169.254.169.254'],
    ['0251.00376.000251.0000376', '169.254.169.254'],
    ['0x41414141A9FEA9FE', '169.254.169.254'],
  ];
  for (const [text, ip] of v4) {
    it(`reads ${text} as ${ip}`, () => assert.equal(parseIpv4(text)?.bytes.join('.'), ip));
  }
  it('rejects names and version-like strings as IPv4', () => {
    assert.equal(parseIpv4('example.com'), undefined);
    assert.equal(parseIpv4('1.2.3.4.5'), undefined);
    assert.equal(parseIpv4('08.1'), undefined);
  });
  it('parses IPv6 with embedded IPv4 and zone ids', () => {
    assert.deepEqual(parseIpv6('::1'), [0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(parseIpv6('::ffff:169.254.169.254')?.slice(5), [0xffff, 0xa9fe, 0xa9fe]);
    assert.deepEqual(parseIpv6('fe80::1%eth0')?.[0], 0xfe80);
    assert.equal(parseIpv6('1::2::3'), undefined);
  });
  it('folds Unicode digits and ideographic full stops like IDNA does', () => {
    assert.equal(parseHost('①②⑦.⓪.⓪.①')?.host, '127.0.0.1');
    assert.equal(parseHost('169。254。169。254')?.host, '169.254.169.254');
    assert.equal(parseHost('ⓛⓞⓒⓐⓛⓗⓞⓢⓣ')?.host, 'localhost');
  });
  it('classifies metadata, loopback, private and wildcard-DNS hosts', () => {
    assert.equal(classifyHost(parseHost('[::ffff:a9fe:a9fe]')!).cls, 'metadata');
    assert.equal(classifyHost(parseHost('metadata.google.internal')!).cls, 'metadata');
    assert.equal(classifyHost(parseHost('[::]')!).cls, 'unspecified');
    assert.equal(classifyHost(parseHost('10.1.2.3')!).cls, 'private');
    assert.equal(classifyHost(parseHost('127.0.0.1.nip.io')!).cls, 'loopback');
    assert.equal(classifyHost(parseHost('app.10-0-0-1.sslip.io')!).cls, 'private');
    assert.equal(classifyHost(parseHost('example.com')!).cls, 'public');
  });
  it('finds the host behind parser-differential userinfo', () => {
    const u = parseUrlLike('http://google.com:80 &@google.com:80# @127.88.23.245:22/');
    assert.equal(u?.host, '127.88.23.245');
    assert.equal(u?.confusedAuthority, true);
  });
});

describe('SSRF detector', () => {
  const attacks: Array<[string, string]> = [
    ['http://169.254.169.254/latest/meta-data/', 'ST-SSRF-001'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'ST-SSRF-001'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'ST-SSRF-001'],
    ['http://2852039166/', 'ST-SSRF-001'],
    ['http://0xA9FEA9FE/', 'ST-SSRF-003'],
    ['http://127.0.0.1:8080/admin', 'ST-SSRF-002'],
    ['http://localhost/server-status', 'ST-SSRF-002'],
    ['http://0/', 'ST-SSRF-002'],
    ['http://[::]/', 'ST-SSRF-002'],
    ['http://[::ffff:127.0.0.1]/', 'ST-SSRF-003'],
    ['http://127.0.0.1.nip.io/', 'ST-SSRF-002'],
    ['http://①②⑦.⓪.⓪.①/', 'ST-SSRF-003'],
    ['http://\\l\\o\\c\\a\\l\\h\\o\\s\\t/', 'ST-SSRF-002'],
    ['gopher://127.0.0.1:6379/_FLUSHALL', 'ST-SSRF-004'],
    ['dict://localhost:11211/stats', 'ST-SSRF-004'],
    ['ssh://0177.00.00.01', 'ST-SSRF-003'],
    ['http:127.0.0.1', 'ST-SSRF-002'],
    ['http://google.com:80 &@127.88.23.245:22/#@google.com/', 'ST-SSRF-005'],
    ['localhost/', 'ST-SSRF-002'],
    ['host.docker.internal/', 'ST-SSRF-002'],
    ['see http://169.254.169.254/latest/user-data please', 'ST-SSRF-001'],
    ['http://x.oastify.com/', 'ST-SSRF-006'],
  ];
  for (const [value, rule] of attacks) {
    it(`flags ${value} (${rule})`, () => assert.ok(rulesFor(d, value).includes(rule), `${rulesFor(d, value)}`));
  }
  const benign = [
    'https://example.com/',
    'https://www.example.com/some/path?a=1',
    'https://cdn.example.org/img/logo.png',
    'mailto:ana@example.com',
    'localhost',
    'mylocalhost',
    '10.0.0.0/8',
    '192.168.1.0/24',
    '2130706433',
    'Meeting at 10:30, room 4',
    'version 1.2.3.4',
    'ftp.example.com',
    'tel:+1-555-0100',
  ];
  for (const value of benign) it(`leaves ${value} alone`, () => assert.deepEqual(rulesFor(d, value), []));

  it('never judges Host, Referer or X-Forwarded-For', () => {
    assert.deepEqual(rulesFor(d, 'localhost', { location: 'header.host' }), []);
    assert.deepEqual(rulesFor(d, 'http://localhost/login', { location: 'header.referer' }), []);
    assert.deepEqual(rulesFor(d, '127.0.0.1', { location: 'header.x-forwarded-for' }), []);
  });
  it('marks metadata critical', () => {
    assert.equal(inspectValue(d, 'http://169.254.169.254/')[0]?.severity, 'critical');
  });
  it('survives 1 MB of scheme-like text', () => {
    assert.ok(Array.isArray(inspectValue(d, hostile('http://'))));
    assert.ok(Array.isArray(inspectValue(d, hostile('a:'))));
  });
});
