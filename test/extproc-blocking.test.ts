import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Shadowtap } from '../src/server.js';
import { REQUEST_ID_HEADER } from '../src/ingest/extproc-blocking.js';
import {
  createExtProcClients,
  driveExchange,
  immediateHeader,
  type HttpExchangeSpec,
} from './helpers/extproc-driver.js';
import { metricValue, startTestServer, subscribe, waitForSubscribers } from './helpers/start-server.js';

type Client = ReturnType<typeof createExtProcClients>[number];

const UNION = "1' UNION SELECT username, password FROM users--"; // ST-SQLI-001, critical
const TAUTOLOGY = "1' OR '1'='1"; // high at most

function request(path: string, value: string, requestId: string, host = 'shop.example.com'): HttpExchangeSpec {
  return {
    method: 'POST',
    path,
    authority: host,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': requestId },
    body: `id=${encodeURIComponent(value)}&page=2`,
    response: { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>ok</html>' },
  };
}

// Blocking configs give Envoy a message_timeout above the verdict deadline; the deadlines
// here are generous so that a loaded 2-core machine cannot turn a verdict into a fail-open.
const BLOCKING_DRIVER = { mode: { request_body_mode: 'BUFFERED' as const }, messageTimeoutMs: 5000 };

describe('ext_proc blocking mode', () => {
  let app: Shadowtap;
  let client: Client;
  before(async () => {
    app = await startTestServer({
      analysis: { limits: { budgetMs: 2000 } },
      extProc: {
        inlineDeadlineMs: 3000,
        blocking: { enabled: true, minSeverity: 'critical', hosts: ['shop.example.com'], pathPrefixes: ['/api/'] },
      },
    });
    client = createExtProcClients(app.ports.grpc, 1)[0]!;
  });
  after(async () => {
    client.close();
    await app.close();
  });

  it('answers immediate_response 403 with the request id for a critical finding in the body', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const res = await driveExchange(client, request('/api/search', UNION, 'blk-1'), BLOCKING_DRIVER);
    assert.equal(res.outcome, 'immediate_response', res.detail);
    assert.equal(res.httpStatus, 403);
    assert.equal(immediateHeader(res.immediate!, REQUEST_ID_HEADER), 'blk-1');
    assert.match(res.immediate!.body!.toString(), /blk-1/);
    // Headers step: CONTINUE (nothing in the headers); body step: the block.
    assert.deepEqual(
      res.replies.map((r) => r.response),
      ['request_headers', 'immediate_response'],
    );
    assert.equal(await metricValue(app, 'shadowtap_extproc_blocked_total', { attack_type: 'sqli' }), 1);
    // The published detection says what the client got.
    await sub.until(() => sub.detections().some((d) => d.requestId === 'blk-1'));
    const d = sub.detections().find((x) => x.requestId === 'blk-1')!;
    assert.equal(d.response?.status, 403);
    assert.equal(d.response?.suggestsSuccess, false);
    assert.match(d.response?.reason ?? '', /blocked by shadowtap/);
    sub.close();
  });

  it('blocks at the request-headers step when the attack is in the query', async () => {
    const res = await driveExchange(
      client,
      {
        path: `/api/items?id=${encodeURIComponent(UNION)}`,
        authority: 'shop.example.com',
        headers: { 'x-request-id': 'blk-q' },
      },
      BLOCKING_DRIVER,
    );
    assert.equal(res.outcome, 'immediate_response');
    assert.deepEqual(res.sent, ['request_headers']);
  });

  it('decides on the single partial message of BUFFERED_PARTIAL and on the last STREAMED chunk', async () => {
    const partial = await driveExchange(
      client,
      { ...request('/api/search', UNION, 'blk-p'), body: `id=${encodeURIComponent(UNION)}&pad=${'p'.repeat(5000)}` },
      { ...BLOCKING_DRIVER, mode: { request_body_mode: 'BUFFERED_PARTIAL' }, bufferLimit: 1024 },
    );
    assert.equal(partial.outcome, 'immediate_response', partial.detail);
    assert.deepEqual(partial.sent, ['request_headers', 'request_body']);
    const streamed = await driveExchange(
      client,
      { ...request('/api/search', UNION, 'blk-s'), body: `pad=${'p'.repeat(3000)}&id=${encodeURIComponent(UNION)}` },
      { ...BLOCKING_DRIVER, mode: { request_body_mode: 'STREAMED' }, chunkSize: 1024 },
    );
    assert.equal(streamed.outcome, 'immediate_response', streamed.detail);
    // Three chunks: the first (a decision step, clean) and the second got CONTINUE, the last blocked.
    assert.deepEqual(
      streamed.replies.map((r) => r.response),
      ['request_headers', 'request_body', 'request_body', 'immediate_response'],
    );
  });

  it('lets through findings below minSeverity, benign requests, and hosts/paths out of scope', async () => {
    const below = await driveExchange(client, request('/api/search', TAUTOLOGY, 'blk-2'), BLOCKING_DRIVER);
    assert.equal(below.outcome, 'completed', below.detail);
    const benign = await driveExchange(client, request('/api/search', 'running shoes', 'blk-3'), BLOCKING_DRIVER);
    assert.equal(benign.outcome, 'completed');
    const otherHost = await driveExchange(
      client,
      request('/api/search', UNION, 'blk-4', 'blog.example.com'),
      BLOCKING_DRIVER,
    );
    assert.equal(otherHost.outcome, 'completed');
    const otherPath = await driveExchange(client, request('/static/search', UNION, 'blk-5'), BLOCKING_DRIVER);
    assert.equal(otherPath.outcome, 'completed');
    for (const r of [below, benign, otherHost, otherPath]) {
      assert.deepEqual(
        r.replies.map((x) => x.response),
        r.expected,
      );
    }
    assert.equal(await metricValue(app, 'shadowtap_extproc_blocked_total'), 4);
  });
});

describe('ext_proc blocking mode fails open', () => {
  let app: Shadowtap;
  let client: Client;
  before(async () => {
    app = await startTestServer({
      // No verdict can come back within 1 ms: a batch alone waits 20 ms to fill.
      admission: { workers: 1, batchWindowMs: 20 },
      extProc: { inlineDeadlineMs: 1, blocking: { enabled: true, minSeverity: 'high' } },
    });
    client = createExtProcClients(app.ports.grpc, 1)[0]!;
  });
  after(async () => {
    client.close();
    await app.close();
  });

  it('answers CONTINUE and counts fail-open when the verdict misses the deadline', async () => {
    const res = await driveExchange(client, request('/api/search', UNION, 'fo-1'), BLOCKING_DRIVER);
    assert.equal(res.outcome, 'completed', res.detail);
    assert.deepEqual(
      res.replies.map((r) => r.response),
      ['request_headers', 'request_body', 'response_headers'],
    );
    assert.equal(await metricValue(app, 'shadowtap_extproc_fail_open_total', { reason: 'deadline' }), 2);
    assert.equal(await metricValue(app, 'shadowtap_extproc_blocked_total'), 0);
  });
});
