import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SERVE_HELP, serveOverrides } from '../src/cli/cmd-serve.js';
import { loadConfig, resolveConfig } from '../src/config/config.js';
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

/** Opens an h2c session and waits for the server's SETTINGS (the connection is admitted). */
function h2Session(port: number): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once('error', reject);
    session.once('close', () => reject(new Error('session closed before SETTINGS')));
    session.once('remoteSettings', () => resolve(session));
  });
}

/** One stream on an open session; resolves with the status. */
function h2Stream(
  session: http2.ClientHttp2Session,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path, ':method': body ? 'POST' : 'GET', ...headers });
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.resume();
    req.on('end', () => resolve(status));
    req.on('error', reject);
    req.end(body);
  });
}

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('dedicated h2c port (shadow.h2cPort)', () => {
  let app: Shadowtap;
  before(async () => {
    app = await startTestServer();
  });
  after(async () => {
    await app.close();
  });

  it('is bound next to the shared port', () => {
    assert.equal(typeof app.ports.shadowH2c, 'number');
    assert.ok(app.ports.shadowH2c! > 0);
    assert.notEqual(app.ports.shadowH2c, app.ports.shadow);
  });

  it('mirrored SQLi reaches a subscriber with host and client IP', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const status = await h2Request(app.ports.shadowH2c!, `/search?q=${encodeURIComponent("x' OR 1=1--")}`, {
      'x-request-id': 'req-h2c-port-1',
      'x-forwarded-for': '203.0.113.9',
    });
    assert.equal(status, 204);
    await sub.until(() => sub.detections().some((d) => d.requestId === 'req-h2c-port-1'));
    const d = sub.detections().find((x) => x.requestId === 'req-h2c-port-1')!;
    assert.equal(d.attackType, 'sqli');
    assert.equal(d.location, 'query.q');
    assert.equal(d.host, 'api.example.com:8443');
    assert.equal(d.clientIp, '203.0.113.9');
    assert.equal(d.source, Source.SOURCE_MIRROR);
    sub.close();
  });

  it("without forwarding headers the client IP is the h2c peer's, on either port; answers carry no Date", async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    for (const [port, id] of [
      [app.ports.shadowH2c!, 'peer-h2c-port'],
      [app.ports.shadow, 'peer-shared-port'],
    ] as const) {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const req = session.request({
          ':path': `/search?q=${encodeURIComponent("x' OR 1=1--")}`,
          ':authority': 'api.example.com',
          'x-request-id': id,
        });
        req.on('response', resolve);
        req.on('error', reject);
        req.resume();
        req.end();
      });
      session.close();
      assert.equal(headers[':status'], 204);
      assert.equal(headers.date, undefined, 'the proxy discards shadow answers: no Date header is built');
      await sub.until(() => sub.detections().some((d) => d.requestId === id));
      assert.equal(sub.detections().find((d) => d.requestId === id)!.clientIp, '127.0.0.1');
    }
    sub.close();
  });

  it('many concurrent streams on one session: all answered, all counted, only the attacks detected', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const received = await metricValue(app, 'shadowtap_received_total');
    const session = await h2Session(app.ports.shadowH2c!);
    const n = 200;
    const statuses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        h2Stream(
          session,
          i % 50 === 0 ? `/q?id=${encodeURIComponent(`${i}' OR 1=1--`)}` : `/orders?page=${i}`,
          { ':authority': 'shop.example.com', 'x-request-id': `many-${i}`, 'content-type': 'application/json' },
          JSON.stringify({ note: `order ${i}`, qty: i % 7 }),
        ),
      ),
    );
    session.close();
    assert.deepEqual(new Set(statuses), new Set([204]));
    assert.equal(await metricValue(app, 'shadowtap_received_total'), received + n);
    // Four attacks (i = 0, 50, 100, 150); everything analysed or shed before the benign check.
    await sub.until(() => sub.detections().filter((d) => d.requestId.startsWith('many-')).length >= 4);
    await waitFor('the batch to be analysed or shed', async () => {
      const done =
        (await metricValue(app, 'shadowtap_analyzed_total')) + (await metricValue(app, 'shadowtap_shed_total'));
      return (
        done >=
        (await metricValue(app, 'shadowtap_received_total')) - (await metricValue(app, 'shadowtap_rejected_total'))
      );
    });
    const ids = new Set(sub.detections().flatMap((d) => (d.requestId.startsWith('many-') ? [d.requestId] : [])));
    assert.deepEqual([...ids].sort(), ['many-0', 'many-100', 'many-150', 'many-50']);
    sub.close();
  });

  it('a benign request produces no detection', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const session = await h2Session(app.ports.shadowH2c!);
    assert.equal(
      await h2Stream(
        session,
        '/products?category=shoes&sort=price&q=running+shoes',
        { ':authority': 'shop.example.com', 'x-request-id': 'h2c-benign', 'content-type': 'application/json' },
        JSON.stringify({ note: "Please leave it at the door, I'll be out", qty: 2 }),
      ),
      204,
    );
    // Same session, after the benign one: once the marker is detected, the benign one was analysed too.
    await h2Stream(session, `/x?id=${encodeURIComponent("' OR 1=1--")}`, {
      ':authority': 'shop.example.com',
      'x-request-id': 'h2c-marker',
    });
    session.close();
    await sub.until(() => sub.detections().some((d) => d.requestId === 'h2c-marker'));
    assert.deepEqual(
      sub.detections().filter((d) => d.requestId === 'h2c-benign'),
      [],
    );
    sub.close();
  });

  it('answers a marked health probe with 200, an unmarked /readyz with the mirror status', async () => {
    const session = await h2Session(app.ports.shadowH2c!);
    assert.equal(await h2Stream(session, '/readyz', { 'x-shadowtap-health-check': '1' }), 200);
    assert.equal(await h2Stream(session, '/readyz'), 204);
    session.close();
  });

  it('HTTP/1.1 sent to the h2c-only port is a counted session error, and the port keeps serving', async () => {
    const before = await metricValue(app, 'shadowtap_rejected_total', { reason: 'h2_session_error' });
    const reply = await rawRequest(app.ports.shadowH2c!, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.doesNotMatch(reply, /^HTTP\/1/);
    await waitFor('the rejection', async () => {
      return (await metricValue(app, 'shadowtap_rejected_total', { reason: 'h2_session_error' })) === before + 1;
    });
    assert.equal(await h2Request(app.ports.shadowH2c!, '/still-alive'), 204);
  });
});

describe('dedicated h2c port: connection budget and shutdown', () => {
  it(
    'shadow.maxConnections is one budget over both ports; the excess is closed and counted',
    { timeout: 15000 },
    async () => {
      const app = await startTestServer({ shadow: { maxConnections: 2 } });
      const open: http2.ClientHttp2Session[] = [];
      try {
        // One connection on each port fills the budget of 2.
        open.push(await h2Session(app.ports.shadow), await h2Session(app.ports.shadowH2c!));
        const before = await metricValue(app, 'shadowtap_rejected_total', { reason: 'max_connections' });
        // The third is closed by the server (the test would time out otherwise).
        await new Promise<void>((resolve) => {
          const s = net.connect(app.ports.shadowH2c!, '127.0.0.1');
          s.resume();
          s.on('error', () => {});
          s.on('close', () => resolve());
        });
        assert.equal(await metricValue(app, 'shadowtap_rejected_total', { reason: 'max_connections' }), before + 1);
        // A slot frees up when a connection closes.
        const first = open.shift()!;
        await new Promise<void>((resolve) => {
          first.once('close', () => resolve());
          first.close();
        });
        await waitFor('a free slot', async () => {
          try {
            const s = await h2Session(app.ports.shadowH2c!);
            open.push(s);
            return (await h2Stream(s, '/after')) === 204;
          } catch {
            return false;
          }
        });
      } finally {
        for (const s of open) s.destroy();
        await app.close();
      }
    },
  );

  it('h2c: close() answers probes 503 during shutdown, lets in-flight streams finish and ends stuck sessions', async () => {
    const app = await startTestServer({ shutdownTimeoutMs: 600 });
    const probeSession = await h2Session(app.ports.shadowH2c!);
    const stuckSession = await h2Session(app.ports.shadowH2c!);
    stuckSession.on('error', () => {});
    // A probe whose body is still open when shutdown starts; a stream that never ends its body.
    const probe = probeSession.request({ ':path': '/readyz', ':method': 'POST', 'x-shadowtap-health-check': '1' });
    const probeStatus = new Promise<number>((resolve, reject) => {
      probe.on('response', (h) => resolve(Number(h[':status'])));
      probe.on('error', reject);
    });
    probe.resume();
    probe.write('x');
    const stuck = stuckSession.request({ ':path': '/upload', ':method': 'POST' });
    stuck.on('error', () => {});
    stuck.write('partial body');
    const stuckClosed = new Promise<void>((resolve) => stuckSession.once('close', () => resolve()));
    const goaway = new Promise<void>((resolve) => probeSession.once('goaway', () => resolve()));
    // A PING answered after the stream's frames: the server has both streams before shutdown starts.
    const pinged = (s: http2.ClientHttp2Session) => new Promise<void>((resolve) => s.ping(() => resolve()));
    await Promise.all([pinged(probeSession), pinged(stuckSession)]);
    const closing = app.close();
    await goaway;
    probe.end();
    assert.equal(await probeStatus, 503);
    await closing;
    await stuckClosed;
    probeSession.destroy();
  });
});

describe('dedicated h2c port: idle timeout', () => {
  it('closes a connection that never sends the preface, and an idle session', { timeout: 15000 }, async () => {
    const app = await startTestServer({ shadow: { idleTimeoutMs: 200 } });
    try {
      await new Promise<void>((resolve) => {
        const s = net.connect(app.ports.shadowH2c!, '127.0.0.1');
        s.resume();
        s.on('error', () => {});
        s.on('close', () => resolve());
      });
      const session = await h2Session(app.ports.shadowH2c!);
      assert.equal(await h2Stream(session, '/one'), 204);
      await new Promise<void>((resolve) => session.once('close', () => resolve()));
    } finally {
      await app.close();
    }
  });
});

describe('shadow.h2cPort config and --shadow-h2c-port', () => {
  it('defaults to 8081, clear of the other default ports', () => {
    const c = resolveConfig({});
    assert.equal(c.shadow.h2cPort, 8081);
    assert.equal(new Set([c.shadow.port, c.shadow.h2cPort, c.grpc.port, c.admin.port]).size, 4);
  });

  it('accepts a port, 0 (ephemeral) or false (disabled); rejects the shared port and non-ports', () => {
    assert.equal(resolveConfig({ shadow: { h2cPort: 9443 } }).shadow.h2cPort, 9443);
    assert.equal(resolveConfig({ shadow: { port: 0, h2cPort: 0 } }).shadow.h2cPort, 0);
    assert.equal(resolveConfig({ shadow: { h2cPort: false } }).shadow.h2cPort, false);
    assert.throws(() => resolveConfig({ shadow: { port: 8080, h2cPort: 8080 } }), /shadow\.h2cPort: must differ/);
    assert.throws(() => resolveConfig({ shadow: { h2cPort: 70000 } }), /shadow\.h2cPort/);
    assert.throws(() => resolveConfig({ shadow: { h2cPort: true as never } }), /shadow\.h2cPort: expected a port/);
  });

  it('--shadow-h2c-port and SHADOWTAP_SHADOW_H2C_PORT set it; flags win over the environment', () => {
    const env = { SHADOWTAP_SHADOW_H2C_PORT: '9001' };
    assert.equal(loadConfig({ env }).shadow.h2cPort, 9001);
    assert.equal(loadConfig({ env, overrides: serveOverrides({ 'shadow-h2c-port': '9002' }) }).shadow.h2cPort, 9002);
    assert.equal(loadConfig({ overrides: serveOverrides({ 'shadow-h2c-port': 'false' }) }).shadow.h2cPort, false);
    assert.match(SERVE_HELP, /--shadow-h2c-port N/);
  });

  it('h2cPort false: only the shared port is bound, and it still serves h2c', async () => {
    const app = await startTestServer({ shadow: { h2cPort: false } });
    try {
      assert.equal(app.ports.shadowH2c, undefined);
      assert.equal(await h2Request(app.ports.shadow, '/shared-h2c'), 204);
    } finally {
      await app.close();
    }
  });
});
