import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_NORMAL_HEADERS, protocolDetector as d } from '../src/detect/detect-protocol.js';
import type { Anomaly, HeaderList } from '../src/core/model.js';
import { detectCtx } from './helpers/detect-point.js';

function rules(headers: HeaderList, method = 'POST', anomalies: Anomaly[] = []): string[] {
  const ctx = detectCtx('default', { headers, method, anomalies });
  return d.inspectRequest!(ctx.request, ctx).map((f) => f.ruleId);
}

describe('protocol anomaly detector', () => {
  it('flags both Content-Length and Transfer-Encoding', () => {
    assert.deepEqual(
      rules([
        ['content-length', '6'],
        ['transfer-encoding', 'chunked'],
      ]),
      ['ST-PROTO-001'],
    );
  });
  it('flags conflicting and malformed Content-Length', () => {
    assert.deepEqual(
      rules([
        ['content-length', '8'],
        ['content-length', '7'],
      ]),
      ['ST-PROTO-002'],
    );
    assert.deepEqual(rules([['content-length', '+5']]), ['ST-PROTO-002']);
  });
  it('flags obfuscated Transfer-Encoding', () => {
    assert.deepEqual(rules([['transfer-encoding', 'xchunked']]), ['ST-PROTO-003']);
    assert.deepEqual(rules([['transfer-encoding', 'chunked, identity']]), ['ST-PROTO-003']);
    assert.deepEqual(
      rules([
        ['transfer-encoding', 'chunked'],
        ['transfer-encoding', 'x'],
      ]),
      ['ST-PROTO-003'],
    );
  });
  it('flags invalid and unknown methods', () => {
    assert.deepEqual(rules([], 'G\tET'), ['ST-PROTO-004']);
    assert.deepEqual(rules([], 'FOOBAR'), ['ST-PROTO-004']);
    assert.deepEqual(rules([], 'TRACE'), ['ST-PROTO-004']);
  });
  it('flags malformed header names, absurd counts and conflicting Host', () => {
    assert.deepEqual(rules([['transfer encoding', 'chunked']]), ['ST-PROTO-005']);
    const many: HeaderList = Array.from({ length: MAX_NORMAL_HEADERS + 50 }, (_, i) => [`x-h${i}`, 'a']);
    assert.deepEqual(rules(many), ['ST-PROTO-006']);
    assert.deepEqual(
      rules([
        ['host', 'a.example'],
        ['host', 'b.example'],
      ]),
      ['ST-PROTO-007'],
    );
  });
  it('reports malformed chunked framing from the decoder', () => {
    assert.deepEqual(
      rules([['transfer-encoding', 'chunked']], 'POST', [
        { code: 'chunked_malformed', location: 'body', detail: 'bad size' },
      ]),
      ['ST-PROTO-008'],
    );
  });
  it('leaves ordinary requests alone', () => {
    assert.deepEqual(
      rules([
        ['host', 'a.example'],
        ['content-length', '12'],
        ['content-type', 'application/json'],
      ]),
      [],
    );
    assert.deepEqual(rules([['transfer-encoding', 'chunked']]), []);
    assert.deepEqual(rules([['transfer-encoding', 'gzip, chunked']]), []);
    assert.deepEqual(rules([], 'PROPFIND'), []);
    assert.deepEqual(
      rules([
        ['content-length', '5'],
        ['content-length', '5'],
      ]),
      [],
    );
  });
});
