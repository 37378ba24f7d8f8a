import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Shadowtap } from '../src/server.js';
import { Source } from '../src/gen/shadowtap/v1/detection.js';
import { freePort, mirrorConfig, startNginx, type RunningNginx } from './helpers/nginx.js';
import { metricValue, startTestServer, subscribe, waitForSubscribers } from './helpers/start-server.js';

// The client connects from 127.0.0.2 (all of 127/8 is loopback on Linux) so that the client
// address shadowtap reports is provably the one nginx put in X-Forwarded-For, not the
// address of nginx's own connection (127.0.0.1).
const CLIENT_IP = '127.0.0.2';
const HOST = 'shop.example.test';

interface Reply {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** The upstream app: a known body per request, so the test can check nginx relayed it untouched. */
function expectedBody(method: string, url: string, bodyBytes: number): string {
  return `app ${method} ${url} ${bodyBytes}`;
}

async function startApp(): Promise<{ server: http.Server; port: number; seen: () => number }> {
  let seen = 0;
  const server = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => {
      seen++;
      const body = expectedBody(req.method ?? '', req.url ?? '', n);
      res.writeHead(req.method === 'POST' ? 201 : 200, {
        'content-type': 'text/plain',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen: () => seen };
}

function request(
  port: number,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        localAddress: CLIENT_IP,
        agent: false,
        headers: { host: HOST, ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A mixed batch of requests; each reply must be exactly what the app answers. */
/**
 * Sends `count` requests through nginx and checks each client response is the app's own.
 * Returns the slowest response time, ms.
 */
async function assertClientUnaffected(frontPort: number, count: number, concurrency: number): Promise<number> {
  const jobs = Array.from({ length: count }, (_, i) => i);
  const failures: string[] = [];
  let slowestMs = 0;
  const worker = async (): Promise<void> => {
    for (let i = jobs.shift(); i !== undefined; i = jobs.shift()) {
      const sentAt = performance.now();
      const post = i % 2 === 1;
      const path = post ? `/api/orders?i=${i}` : `/items?id=${encodeURIComponent(`${i}' OR 1=1--`)}&n=${i}`;
      const body = post ? JSON.stringify({ item: i, note: 'x'.repeat(3000 + i) }) : undefined;
      const reply = await request(
        frontPort,
        post ? 'POST' : 'GET',
        path,
        body,
        post ? { 'content-type': 'application/json' } : {},
      );
      slowestMs = Math.max(slowestMs, performance.now() - sentAt);
      const want = expectedBody(post ? 'POST' : 'GET', path, body ? Buffer.byteLength(body) : 0);
      if (reply.status !== (post ? 201 : 200) || reply.body !== want)
        failures.push(`${i}: ${reply.status} ${reply.body}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  assert.deepEqual(failures, [], 'every client response is the app response, status and body');
  return slowestMs;
}

async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function accounted(
  app: Shadowtap,
): Promise<{ received: number; analyzed: number; shed: number; rejected: number }> {
  return {
    received: await metricValue(app, 'shadowtap_received_total'),
    analyzed: await metricValue(app, 'shadowtap_analyzed_total'),
    shed: await metricValue(app, 'shadowtap_shed_total'),
    rejected: await metricValue(app, 'shadowtap_rejected_total'),
  };
}

describe('NGINX mirror → shadowtap, end to end', () => {
  let upstream: Awaited<ReturnType<typeof startApp>>;
  before(async () => {
    upstream = await startApp();
  });
  after(async () => {
    upstream.server.closeAllConnections();
    await new Promise((r) => upstream.server.close(r));
  });

  describe('shadowtap up', () => {
    let app: Shadowtap;
    let nginx: RunningNginx;
    let frontPort: number;
    before(async () => {
      // A generous per-request budget: on a busy CI machine a cold worker's first analyses
      // can exceed the default, and this test is about mirroring, not the CPU budget.
      app = await startTestServer({ analysis: { limits: { budgetMs: 2000 } } });
      frontPort = await freePort();
      nginx = await startNginx({
        config: (paths) => mirrorConfig({ paths, frontPort, appPort: upstream.port, shadowPort: app.ports.shadow }),
        waitPorts: [frontPort],
      });
    });
    // Optional chaining: when nginx is missing, before() throws after the app started, and
    // the app must still be closed or the test process never exits.
    after(async () => {
      await nginx?.stop();
      await app?.close();
    });

    it('a mirrored SQLi in a query parameter becomes a Detection with host, client IP, location and request id', async () => {
      const sub = subscribe(app.ports.grpc);
      try {
        await waitForSubscribers(app, 1);
        const path = `/items?id=${encodeURIComponent("1' OR 1=1--")}&page=2`;
        const reply = await request(frontPort, 'GET', path);
        assert.equal(reply.status, 200);
        assert.equal(reply.body, expectedBody('GET', path, 0));
        const requestId = String(reply.headers['x-request-id']);
        assert.match(requestId, /^[0-9a-f]{32}$/, 'nginx $request_id returned to the client');
        await sub.until(() => sub.detections().some((d) => d.requestId === requestId));
        const d = sub.detections().find((x) => x.requestId === requestId)!;
        assert.equal(d.attackType, 'sqli');
        assert.equal(d.location, 'query.id');
        assert.equal(d.host, HOST);
        assert.equal(d.clientIp, CLIENT_IP);
        assert.equal(d.method, 'GET');
        assert.equal(d.path, '/items');
        assert.equal(d.source, Source.SOURCE_MIRROR);
      } finally {
        sub.close();
      }
    });

    it('mirror_request_body carries a JSON POST body: SQLi located in the body', async () => {
      const sub = subscribe(app.ports.grpc);
      try {
        await waitForSubscribers(app, 1);
        const body = JSON.stringify({ user: { name: "admin' UNION SELECT password FROM users--" }, qty: 1 });
        const reply = await request(frontPort, 'POST', '/api/login', body, { 'content-type': 'application/json' });
        assert.equal(reply.status, 201);
        assert.equal(reply.body, expectedBody('POST', '/api/login', Buffer.byteLength(body)));
        const requestId = String(reply.headers['x-request-id']);
        await sub.until(() => sub.detections().some((d) => d.requestId === requestId));
        const d = sub.detections().find((x) => x.requestId === requestId)!;
        assert.equal(d.attackType, 'sqli');
        assert.equal(d.location, 'body.json.user.name');
        assert.equal(d.method, 'POST');
        assert.equal(d.clientIp, CLIENT_IP);
      } finally {
        sub.close();
      }
    });

    it('benign traffic through nginx is analysed and produces no detection', async () => {
      const sub = subscribe(app.ports.grpc);
      try {
        await waitForSubscribers(app, 1);
        const before = await metricValue(app, 'shadowtap_analyzed_total');
        const ids: string[] = [];
        for (const path of ['/products?category=shoes&sort=price', '/search?q=running+shoes&page=3']) {
          const reply = await request(frontPort, 'GET', path);
          assert.equal(reply.body, expectedBody('GET', path, 0));
          ids.push(String(reply.headers['x-request-id']));
        }
        await waitFor(async () => (await metricValue(app, 'shadowtap_analyzed_total')) >= before + 2, 5000, 'analysis');
        const marker = await request(frontPort, 'GET', `/x?id=${encodeURIComponent("' OR 1=1--")}`);
        const markerId = String(marker.headers['x-request-id']);
        await sub.until(() => sub.detections().some((d) => d.requestId === markerId));
        assert.deepEqual(
          sub.detections().filter((d) => ids.includes(d.requestId)),
          [],
        );
      } finally {
        sub.close();
      }
    });
  });

  describe('client responses do not depend on shadowtap', () => {
    it('shadowtap down (mirror to a closed port): responses unchanged', async () => {
      const closedPort = await freePort();
      const frontPort = await freePort();
      const nginx = await startNginx({
        config: (paths) => mirrorConfig({ paths, frontPort, appPort: upstream.port, shadowPort: closedPort }),
        waitPorts: [frontPort],
      });
      try {
        await assertClientUnaffected(frontPort, 30, 6);
        assert.match(nginx.errorLog(), /Connection refused/, 'nginx did try the mirror and failed');
      } finally {
        await nginx.stop();
      }
    });

    it('shadowtap stopped mid-traffic: responses unchanged before and after', async () => {
      const app = await startTestServer();
      const frontPort = await freePort();
      const nginx = await startNginx({
        config: (paths) => mirrorConfig({ paths, frontPort, appPort: upstream.port, shadowPort: app.ports.shadow }),
        waitPorts: [frontPort],
      }).catch(async (err: unknown) => {
        await app.close();
        throw err;
      });
      try {
        await assertClientUnaffected(frontPort, 10, 2);
        await waitFor(
          async () => (await metricValue(app, 'shadowtap_analyzed_total')) >= 10,
          5000,
          '10 mirrored requests analysed',
        );
        await app.close();
        await assertClientUnaffected(frontPort, 10, 2);
      } finally {
        await nginx.stop();
        await app.close();
      }
    });

    it('shadowtap hung (accepts, never answers): responses unchanged, none waits for its mirror', async () => {
      // Worse than slow: a shadow endpoint that reads and never replies, so every mirror
      // subrequest runs into nginx's proxy_read_timeout.
      const sockets = new Set<net.Socket>();
      const hung = net.createServer((s) => {
        sockets.add(s);
        s.resume();
        s.on('error', () => s.destroy());
      });
      await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
      const frontPort = await freePort();
      const nginx = await startNginx({
        config: (paths) =>
          mirrorConfig({ paths, frontPort, appPort: upstream.port, shadowPort: (hung.address() as AddressInfo).port }),
        waitPorts: [frontPort],
      });
      try {
        const slowestMs = await assertClientUnaffected(frontPort, 12, 12);
        assert.ok(sockets.size > 0, 'nginx mirrored to the hung endpoint');
        // Not a speed measurement: every mirror subrequest here waits out proxy_read_timeout
        // (2 s), so a client response that waited for its mirror would take at least that.
        assert.ok(slowestMs < 1000, `a client response waited for the hung mirror (${Math.round(slowestMs)} ms)`);
      } finally {
        await nginx.stop();
        for (const s of sockets) s.destroy();
        await new Promise((r) => hung.close(r));
      }
    });

    it('shadowtap overloaded (tiny queue, flood): responses unchanged, every mirror accounted for', async () => {
      const app = await startTestServer({ admission: { workers: 1, queueSize: 2, batchSize: 1, batchWindowMs: 0 } });
      const frontPort = await freePort();
      const nginx = await startNginx({
        config: (paths) => mirrorConfig({ paths, frontPort, appPort: upstream.port, shadowPort: app.ports.shadow }),
        waitPorts: [frontPort],
      }).catch(async (err: unknown) => {
        await app.close();
        throw err;
      });
      try {
        const total = 300;
        await assertClientUnaffected(frontPort, total, 40);
        await waitFor(
          async () => {
            const m = await accounted(app);
            return m.received >= total && m.analyzed + m.shed + m.rejected >= m.received;
          },
          10000,
          'every mirrored request to be analysed or shed',
        );
        const m = await accounted(app);
        assert.equal(m.received, total, `every mirror reached shadowtap; nginx log: ${nginx.errorLog().slice(-500)}`);
        assert.equal(m.analyzed + m.shed + m.rejected, m.received);
        assert.ok(m.shed > 0, `a queue of 2 sheds under a flood (analyzed ${m.analyzed})`);
        assert.equal(await metricValue(app, 'shadowtap_shed_total', { reason: 'queue_full' }), m.shed);
      } finally {
        await nginx.stop();
        await app.close();
      }
    });
  });
});
