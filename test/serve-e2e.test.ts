import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Shadowtap } from '../src/server.js';
import { Source } from '../src/gen/shadowtap/v1/detection.js';
import { metricValue, startTestServer, subscribe, waitForSubscribers } from './helpers/start-server.js';

function h1Request(port: number, path: string, headers: Record<string, string> = {}, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', headers, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function h2Request(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({
      ':path': path,
      ':method': 'GET',
      ':authority': 'api.example.com-shadow:8443',
      ...headers,
    });
    let status = 0;
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.resume();
    req.on('end', () => {
      session.close();
      resolve(status);
    });
    req.on('error', reject);
    req.end();
  });
}

function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

describe('walking skeleton: mirrored request in, detection out', () => {
  let app: Shadowtap;
  before(async () => {
    app = await startTestServer();
  });
  after(async () => {
    await app.close();
  });

  it('HTTP/1.1 mirrored SQLi in a query parameter reaches a subscriber with its location', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const status = await h1Request(app.ports.shadow, `/items?id=${encodeURIComponent("1' OR 1=1--")}&page=2`, {
      host: 'shop.example.com-shadow',
      'x-request-id': 'req-h1-1',
      'x-forwarded-for': '203.0.113.7',
    });
    assert.equal(status, 204);
    await sub.until(() => sub.detections().some((d) => d.requestId === 'req-h1-1'));
    const d = sub.detections().find((x) => x.requestId === 'req-h1-1')!;
    assert.equal(d.attackType, 'sqli');
    assert.equal(d.location, 'query.id');
    assert.equal(d.host, 'shop.example.com');
    assert.equal(d.clientIp, '203.0.113.7');
    assert.equal(d.method, 'GET');
    assert.equal(d.path, '/items');
    assert.equal(d.source, Source.SOURCE_MIRROR);
    assert.ok(d.sequence > 0);
    assert.ok(d.ruleId.startsWith('ST-SQLI-'));
    sub.close();
  });

  it('h2c (prior knowledge) mirrored SQLi reaches a subscriber, -shadow stripped before the port', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const status = await h2Request(app.ports.shadow, `/search?q=${encodeURIComponent("x' OR 1=1--")}`, {
      'x-request-id': 'req-h2-1',
      'x-envoy-external-address': '198.51.100.4',
    });
    assert.equal(status, 204);
    await sub.until(() => sub.detections().some((d) => d.requestId === 'req-h2-1'));
    const d = sub.detections().find((x) => x.requestId === 'req-h2-1')!;
    assert.equal(d.location, 'query.q');
    assert.equal(d.host, 'api.example.com:8443');
    assert.equal(d.clientIp, '198.51.100.4');
    sub.close();
  });

  it('a benign request produces no detection', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const before = await metricValue(app, 'shadowtap_analyzed_total');
    await h1Request(app.ports.shadow, '/products?category=shoes&sort=price&q=running+shoes', {
      'x-request-id': 'benign-1',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
    });
    await h1Request(
      app.ports.shadow,
      '/api/orders',
      { 'content-type': 'application/json', 'x-request-id': 'benign-2' },
      JSON.stringify({ note: "Please leave it at the door, I'll be out", qty: 2 }),
    );
    // Wait until both are analysed, then a marker attack proves the stream is live.
    const start = Date.now();
    while ((await metricValue(app, 'shadowtap_analyzed_total')) < before + 2 && Date.now() - start < 5000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await h1Request(app.ports.shadow, `/x?id=${encodeURIComponent("' OR 1=1--")}`, { 'x-request-id': 'marker' });
    await sub.until(() => sub.detections().some((d) => d.requestId === 'marker'));
    assert.deepEqual(
      sub.detections().filter((d) => d.requestId.startsWith('benign')),
      [],
    );
    sub.close();
  });

  it('malformed HTTP gets a 400 and a counter, and the server keeps serving', async () => {
    const before = await metricValue(app, 'shadowtap_rejected_total');
    const reply = await rawRequest(app.ports.shadow, 'GARBAGE\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal(await metricValue(app, 'shadowtap_rejected_total'), before + 1);
    assert.equal(await h1Request(app.ports.shadow, '/still-alive'), 204);
  });

  it('answers proxy health checks on the shadow port with readiness, and still analyses them', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    assert.equal(await h1Request(app.ports.shadow, '/readyz', { 'x-shadowtap-health-check': '1' }), 200);
    // The marker header is forgeable: a payload carried by a "probe" is still detected.
    assert.equal(
      await h1Request(app.ports.shadow, `/readyz?id=${encodeURIComponent("' OR 1=1--")}`, {
        'x-shadowtap-health-check': '1',
        'x-request-id': 'forged-probe',
      }),
      200,
    );
    await sub.until(() => sub.detections().some((d) => d.requestId === 'forged-probe'));
    assert.equal(await h1Request(app.ports.shadow, '/readyz'), 204);
    sub.close();
  });

  it('serves /metrics, /healthz and /readyz on the admin port', async () => {
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: app.ports.admin, path }, (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
    const metrics = await get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /shadowtap_received_total\{source="mirror"\} \d+/);
    assert.match(metrics.body, /shadowtap_analysis_seconds_bucket/);
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/readyz')).status, 200);
  });
});

describe('admission under overload', () => {
  it('sheds and counts instead of delaying the 204', async () => {
    // One worker, a queue of 2 and batches of 1: a burst of 300 cannot all be admitted.
    const app = await startTestServer({ admission: { workers: 1, queueSize: 2, batchSize: 1, batchWindowMs: 0 } });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 300 }, (_, i) => h1Request(app.ports.shadow, `/p?i=${i}&q=${'a'.repeat(2000)}`)),
      );
      assert.ok(
        statuses.every((s) => s === 204),
        'every mirrored request is answered 204',
      );
      const shed = await metricValue(app, 'shadowtap_shed_total', { reason: 'queue_full' });
      assert.ok(shed > 0, `expected shed > 0, got ${shed}`);
      // Accounting: every request is either analysed or shed once the queue drained.
      const start = Date.now();
      let analyzed = 0;
      while (Date.now() - start < 10000) {
        analyzed = await metricValue(app, 'shadowtap_analyzed_total');
        if (analyzed + shed >= 300) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(await metricValue(app, 'shadowtap_received_total'), 300);
      assert.equal(analyzed + shed, 300);
    } finally {
      await app.close();
    }
  });
});
