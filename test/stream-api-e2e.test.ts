import assert from 'node:assert/strict';
import http from 'node:http';
import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, it } from 'node:test';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { Detection, Source } from '../src/gen/shadowtap/v1/detection.js';
import type { Filter } from '../src/gen/shadowtap/v1/detection_service.js';
import { metricValue, startTestServer, subscribe, waitForSubscribers } from './helpers/start-server.js';

function mirror(port: number, path: string, host: string, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, headers: { host, 'x-request-id': id }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const TYPES = ['sqli', 'xss', 'rce', 'path_traversal', 'ssrf'];
const HOSTS = ['a.example', 'b.example', 'c.example:8443'];
const PATHS = ['/api/', '/admin/', '/static/'];
const SOURCES = [Source.SOURCE_MIRROR, Source.SOURCE_EXT_PROC];

function synthetic(i: number): Detection {
  return Detection.fromPartial({
    id: `syn-${i}`,
    attackType: TYPES[i % TYPES.length]!,
    host: HOSTS[(i >> 1) % HOSTS.length]!,
    path: `${PATHS[(i >> 2) % PATHS.length]!}${i}`,
    source: SOURCES[(i >> 3) % SOURCES.length]!,
    severity: 1 + (i % 5),
  });
}

/** Filter number k of 50: every combination of the five dimensions, some empty. */
function filterFor(k: number): Filter {
  return {
    minSeverity: k % 6,
    attackTypes:
      k % 3 === 0 ? [] : [TYPES[k % TYPES.length]!, ...(k % 4 === 0 ? [TYPES[(k + 2) % TYPES.length]!] : [])],
    hosts: k % 5 === 0 ? [HOSTS[k % HOSTS.length]!.split(':')[0]!] : k % 7 === 0 ? ['shop.example.com'] : [],
    pathPrefixes: k % 2 === 0 ? [] : [PATHS[k % PATHS.length]!, ...(k % 9 === 0 ? ['/items'] : [])],
    sources: k % 4 === 1 ? [SOURCES[k % 2]!] : [],
  };
}

/** Independent reference of the filter semantics, to check the server's. */
function reference(f: Filter, d: Detection): boolean {
  const host = d.host.toLowerCase().replace(/:\d+$/, '');
  return (
    d.severity >= f.minSeverity &&
    (f.attackTypes.length === 0 || f.attackTypes.includes(d.attackType)) &&
    (f.hosts.length === 0 || f.hosts.some((h) => h === d.host.toLowerCase() || h === host)) &&
    (f.pathPrefixes.length === 0 || f.pathPrefixes.some((p) => d.path.startsWith(p))) &&
    (f.sources.length === 0 || f.sources.includes(d.source))
  );
}

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10000): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const seqs = (ds: Detection[]): number[] => ds.map((d) => d.sequence);

describe('detection stream API', () => {
  it('50 concurrent subscribers with different filters each get exactly their detections, in order', async () => {
    // A generous analysis budget: 50 busy subscribers on 2 cores must not cut the real requests' analysis.
    const app = await startTestServer({
      hub: { historySize: 20000, subscriberQueue: 20000 },
      analysis: { limits: { budgetMs: 10000 } },
    });
    try {
      const subs = Array.from({ length: 50 }, (_, k) => subscribe(app.ports.grpc, { filter: filterFor(k) }));
      await waitForSubscribers(app, 50);
      // A few real mirrored attacks through the whole pipeline, the volume straight into the hub.
      const real = [
        mirror(app.ports.shadow, `/items?id=${encodeURIComponent("1' OR 1=1--")}`, 'shop.example.com-shadow', 'r1'),
        mirror(app.ports.shadow, `/api/q?x=${encodeURIComponent('<script>alert(1)</script>')}`, 'a.example', 'r2'),
        mirror(app.ports.shadow, `/admin/?id=${encodeURIComponent("2' UNION SELECT 1--")}`, 'b.example', 'r3'),
      ];
      for (let i = 0; i < 1000; i++) {
        app.hub.publish(synthetic(i));
        if (i % 250 === 0) await yieldLoop();
      }
      await Promise.all(real);
      await waitFor(
        async () => (await metricValue(app, 'shadowtap_analyzed_total')) >= 3,
        'analysis of the real requests',
      );
      const all = app.hub.list(0, 100000);
      assert.equal(all.length, app.hub.lastSequence());
      const realIds = new Set(all.map((d) => d.requestId));
      assert.ok(realIds.has('r1') && realIds.has('r3'), 'the mirrored SQLi requests produced detections');
      const expected = subs.map((_, k) => seqs(all.filter((d) => reference(filterFor(k), d))));
      // events.length, not detections(): the predicate runs on every message.
      await Promise.all(subs.map((s, k) => s.until(() => s.events.length >= expected[k]!.length, 15000)));
      // Let anything extra that might be in flight arrive before comparing.
      await new Promise((r) => setTimeout(r, 100));
      for (const [k, s] of subs.entries()) {
        assert.deepEqual(seqs(s.detections()), expected[k], `subscriber ${k}`);
        assert.equal(s.events.length, s.detections().length, `subscriber ${k} got no gap marker`);
      }
      assert.ok(new Set(expected.map((e) => e.length)).size > 10, 'filters really differ');
      assert.equal(await metricValue(app, 'shadowtap_stream_subscribers'), 50);
      assert.equal(
        await metricValue(app, 'shadowtap_stream_delivered_total'),
        expected.reduce((a, e) => a + e.length, 0),
      );
      for (const s of subs) s.close();
    } finally {
      await app.close();
    }
  });

  it('a subscriber that stops reading delays neither the others nor the pipeline, then gets a slow_consumer gap', async () => {
    const app = await startTestServer({
      hub: { historySize: 10000, subscriberQueue: 300 },
      analysis: { limits: { budgetMs: 10000 } },
    });
    try {
      const stalled = subscribe(app.ports.grpc);
      stalled.call.pause();
      const others = [subscribe(app.ports.grpc), subscribe(app.ports.grpc), subscribe(app.ports.grpc)];
      await waitForSubscribers(app, 4);
      const REAL = 10;
      const SYNTHETIC = 2000;
      const real: Array<Promise<number>> = [];
      for (let i = 0; i < SYNTHETIC; i++) {
        app.hub.publish(synthetic(i));
        if (i % 100 === 99) {
          if (real.length < REAL) {
            real.push(
              mirror(app.ports.shadow, `/x?id=${encodeURIComponent(`${i}' OR 1=1--`)}`, 'shop.example.com', `s${i}`),
            );
          }
          // Publish at the pace the healthy consumers read, so only the stalled one falls behind.
          await Promise.all(others.map((o) => o.until(() => o.events.length >= i - 50, 10000)));
        }
      }
      await Promise.all(real);
      await waitFor(async () => (await metricValue(app, 'shadowtap_analyzed_total')) >= REAL, 'pipeline analysed all');
      const detections = await metricValue(app, 'shadowtap_detections_total');
      assert.ok(detections >= REAL, `pipeline published ${detections}`);
      const total = app.hub.lastSequence();
      assert.equal(total, SYNTHETIC + detections);
      await Promise.all(others.map((o) => o.until(() => o.events.length === total, 10000)));
      for (const o of others)
        assert.deepEqual(
          seqs(o.detections()),
          Array.from({ length: total }, (_, i) => i + 1),
        );
      assert.ok(stalled.detections().length < total, 'the stalled subscriber really stalled');

      stalled.call.resume();
      await stalled.until(() => stalled.detections().at(-1)?.sequence === total, 10000);
      const gap = stalled.events.find((e) => e.event?.$case === 'gap');
      assert.equal(gap?.event?.$case === 'gap' && gap.event.value.reason, 'slow_consumer');
      // Never a silent skip: delivered + announced missing = everything, in order.
      const got = seqs(stalled.detections());
      let missing = 0;
      for (const e of stalled.events)
        if (e.event?.$case === 'gap') missing += e.event.value.toSequence - e.event.value.fromSequence + 1;
      assert.equal(got.length + missing, total);
      assert.deepEqual(
        got,
        [...got].sort((a, b) => a - b),
      );
      assert.ok((await metricValue(app, 'shadowtap_stream_gaps_total', { reason: 'slow_consumer' })) >= 1);
      for (const s of [stalled, ...others]) s.close();
    } finally {
      await app.close();
    }
  });

  it("slow-consumer policy 'disconnect' ends a stalled subscriber with RESOURCE_EXHAUSTED", async () => {
    const app = await startTestServer({ hub: { subscriberQueue: 200, slowConsumer: 'disconnect' } });
    try {
      const stalled = subscribe(app.ports.grpc);
      stalled.call.pause();
      const healthy = subscribe(app.ports.grpc);
      await waitForSubscribers(app, 2);
      for (let i = 0; i < 2000; i++) {
        app.hub.publish(synthetic(i));
        if (i % 50 === 49) await healthy.until(() => healthy.events.length >= i - 50, 10000);
      }
      await waitFor(() => app.hub.subscriberCount() === 1, 'the stalled subscriber to be cut');
      const failed = new Promise<ServiceError>((resolve) => stalled.call.on('error', resolve));
      stalled.call.resume();
      const err = await failed;
      assert.equal(err.code, status.RESOURCE_EXHAUSTED);
      assert.equal(err.metadata.get('shadowtap-error-code')[0], 'ST_ERR_SLOW_CONSUMER');
      await healthy.until(() => healthy.events.length === 2000);
      assert.equal(healthy.ended, undefined);
      assert.equal(await metricValue(app, 'shadowtap_stream_slow_consumer_disconnects_total'), 1);
      healthy.close();
      stalled.close();
    } finally {
      await app.close();
    }
  });

  it('resume after a disconnect yields no loss and no duplicates within retention', async () => {
    const app = await startTestServer();
    try {
      const first = subscribe(app.ports.grpc);
      await waitForSubscribers(app, 1);
      for (let i = 0; i < 300; i++) app.hub.publish(synthetic(i));
      await first.until(() => first.events.length >= 100);
      first.close();
      await waitFor(() => app.hub.subscriberCount() === 0, 'the first subscription to end');
      const seen = seqs(first.detections());
      for (let i = 300; i < 600; i++) app.hub.publish(synthetic(i));
      const second = subscribe(app.ports.grpc, { resumeAfterSequence: seen.at(-1)! });
      await waitForSubscribers(app, 1);
      for (let i = 600; i < 700; i++) app.hub.publish(synthetic(i));
      await second.until(() => second.detections().at(-1)?.sequence === 700);
      const union = [...seen, ...seqs(second.detections())];
      assert.deepEqual(
        union,
        Array.from({ length: 700 }, (_, i) => i + 1),
      );
      assert.equal(second.events.length, second.detections().length, 'no gap marker within retention');
      second.close();
    } finally {
      await app.close();
    }
  });

  it('refuses subscribers past grpc.maxSubscribers with RESOURCE_EXHAUSTED', async () => {
    const app = await startTestServer({ grpc: { maxSubscribers: 1 } });
    try {
      const first = subscribe(app.ports.grpc);
      await waitForSubscribers(app, 1);
      const second = subscribe(app.ports.grpc);
      const err = await new Promise<ServiceError>((resolve) => second.call.on('error', resolve));
      assert.equal(err.code, status.RESOURCE_EXHAUSTED);
      assert.equal(err.metadata.get('shadowtap-error-code')[0], 'ST_ERR_TOO_MANY_SUBSCRIBERS');
      assert.equal(app.hub.subscriberCount(), 1);
      first.close();
      second.close();
    } finally {
      await app.close();
    }
  });

  it('resuming from an evicted sequence starts with an evicted gap marker', async () => {
    const app = await startTestServer({ hub: { historySize: 50 } });
    try {
      for (let i = 0; i < 200; i++) app.hub.publish(synthetic(i));
      const sub = subscribe(app.ports.grpc, { resumeAfterSequence: 10 });
      await sub.until(() => sub.detections().length === 50);
      const first = sub.events[0]?.event;
      assert.equal(first?.$case, 'gap');
      assert.deepEqual(first?.$case === 'gap' && first.value, { fromSequence: 11, toSequence: 150, reason: 'evicted' });
      assert.deepEqual(
        seqs(sub.detections()),
        Array.from({ length: 50 }, (_, i) => 151 + i),
      );
      assert.equal(await metricValue(app, 'shadowtap_stream_gaps_total', { reason: 'evicted' }), 1);
      sub.close();
    } finally {
      await app.close();
    }
  });
});
