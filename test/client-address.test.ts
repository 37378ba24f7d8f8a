import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress, normalizeIp, stripShadowSuffix } from '../src/ingest/client-address.js';

describe('stripShadowSuffix', () => {
  it('removes Envoy -shadow before the port and at the end', () => {
    assert.equal(stripShadowSuffix('a.com-shadow:8443'), 'a.com:8443');
    assert.equal(stripShadowSuffix('a.com-shadow'), 'a.com');
    assert.equal(stripShadowSuffix('A.COM-SHADOW'), 'A.COM');
  });
  it('leaves other hosts alone', () => {
    assert.equal(stripShadowSuffix('shadow.example.com'), 'shadow.example.com');
    assert.equal(stripShadowSuffix('my-shadowtap.local:80'), 'my-shadowtap.local:80');
    assert.equal(stripShadowSuffix(''), '');
  });
});

describe('clientAddress', () => {
  it('prefers x-envoy-external-address', () => {
    assert.equal(
      clientAddress(
        [
          ['x-forwarded-for', '1.1.1.1'],
          ['x-envoy-external-address', '2.2.2.2'],
        ],
        '127.0.0.1',
        0,
      ),
      '2.2.2.2',
    );
  });
  it('reads X-Forwarded-For from the right, skipping trusted hops', () => {
    const headers: Array<[string, string]> = [
      ['x-forwarded-for', '203.0.113.1, 10.0.0.2'],
      ['x-forwarded-for', '10.0.0.3'],
    ];
    assert.equal(clientAddress(headers, '127.0.0.1', 0), '10.0.0.3');
    assert.equal(clientAddress(headers, '127.0.0.1', 2), '203.0.113.1');
    assert.equal(clientAddress(headers, '127.0.0.1', 9), '203.0.113.1');
  });
  it('falls back to the socket address, without the IPv4-mapped prefix', () => {
    assert.equal(clientAddress([], '::ffff:192.0.2.9', 0), '192.0.2.9');
    assert.equal(normalizeIp('::1'), '::1');
  });
});
