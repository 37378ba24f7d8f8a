import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { encodeBatch } from '../src/admission/batch-codec.js';
import { createDetectPool, defaultWorkerThreads } from '../src/admission/detect-pool.js';
import { resolveConfig } from '../src/config/config.js';
import type { CapturedExchange } from '../src/core/model.js';
import { capturedExchange } from './helpers/exchange.js';

function exchange(id: string, target: string, body = '', contentType = 'application/json'): CapturedExchange {
  return capturedExchange({
    id,
    source: 'mirror',
    host: 'h',
    target,
    headers: body ? [['content-type', contentType]] : [],
    body,
  });
}

describe('default worker threads', () => {
  it('leave a core to the listener from three cores up, and use every core on one or two', () => {
    assert.deepEqual([1, 2, 3, 4, 8].map(defaultWorkerThreads), [1, 2, 2, 3, 7]);
  });
});

describe('detect pool (real piscina workers)', () => {
  const pool = createDetectPool({ workers: 1, analysis: resolveConfig().analysis });
  after(() => pool.close(2000));

  it('analyses a batch in a worker', async () => {
    const results = await pool.run(
      encodeBatch([exchange('a', `/?id=${encodeURIComponent("1' OR 1=1--")}`), exchange('b', '/?id=42')]),
    );
    assert.equal(results.length, 2);
    assert.ok(results[0]!.findings.some((f) => f.attackType === 'sqli' && f.location === 'query.id'));
    assert.deepEqual(results[1]!.findings, []);
  });

  it('survives hostile input and still analyses the next request', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const quotes = "'".repeat(1_000_000);
    const parens = '('.repeat(100_000);
    const hostile = [
      exchange('deep', '/', deep),
      exchange('quotes', `/?q=${quotes}`),
      exchange('parens', '/', `q=${parens}`, 'application/x-www-form-urlencoded'),
      exchange('nul', '/?a=%00%00%ff%fe', '\u0000\u0000\u0000', 'text/plain'),
    ];
    const results = await pool.run(encodeBatch(hostile));
    assert.equal(results.length, 4);
    for (const r of results)
      assert.ok(!r.anomalies.some((a) => a.code === 'analysis_error'), JSON.stringify(r.anomalies));
    const next = await pool.run(encodeBatch([exchange('next', `/?id=${encodeURIComponent("' OR 1=1--")}`)]));
    assert.ok(next[0]!.findings.some((f) => f.attackType === 'sqli'));
  });
});
