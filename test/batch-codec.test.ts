import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBatch, encodeBatch } from '../src/admission/batch-codec.js';
import type { CapturedExchange } from '../src/core/model.js';
import { capturedExchange } from './helpers/exchange.js';

function exchange(id: string, body: string, response?: string): CapturedExchange {
  const ex = capturedExchange({
    id,
    requestId: `r-${id}`,
    source: 'mirror',
    receivedAt: 1700000000000,
    host: 'a.example',
    method: 'POST',
    target: '/x?y=1',
    headers: [['content-type', 'text/plain']],
    body,
  });
  if (response !== undefined)
    ex.response = { status: 500, headers: [], body: Buffer.from(response), bodyTruncated: true };
  return ex;
}

describe('batch codec', () => {
  it('round-trips exchanges, bodies and responses through one ArrayBuffer', () => {
    const input = [exchange('1', 'hello'), exchange('2', ''), exchange('3', 'ünïcødé ✓', 'stack trace')];
    // Multi-byte metadata: the JSON's byte length differs from its string length.
    input[1]!.target = '/suche?q=größe €5 😀';
    input[1]!.headers = [['x-name', 'Zoë \u{1F600}']];
    const out = decodeBatch(encodeBatch(input));
    assert.equal(out.length, 3);
    for (let i = 0; i < input.length; i++) {
      const { body: b1, response: r1, ...m1 } = input[i]!;
      const { body: b2, response: r2, ...m2 } = out[i]!;
      assert.deepEqual(m2, m1);
      assert.deepEqual(Buffer.from(b2), Buffer.from(b1));
      assert.equal(r2?.status, r1?.status);
      if (r1) assert.equal(Buffer.from(r2!.body).toString(), 'stack trace');
    }
  });

  it('copies bodies out of shared slabs (a pooled Buffer view is not transferred)', () => {
    const slab = Buffer.from('xxxxBODYyyyy');
    const ex = exchange('1', '');
    ex.body = slab.subarray(4, 8);
    const buf = encodeBatch([ex]);
    slab.fill(0);
    assert.equal(Buffer.from(decodeBatch(buf)[0]!.body).toString(), 'BODY');
  });
});
