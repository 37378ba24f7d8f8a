/**
 * Reporter costs on the publish path and on disk: enqueue time per detection and event-loop
 * delay while the upstream is up vs. down (spooling), end-to-end delivery rate to a loopback
 * NDJSON server, and spool append rate per fsync policy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { resolveConfig, type Options } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { Detection, Severity } from '../src/gen/shadowtap/v1/detection.js';
import { openDiskSpool } from '../src/publish/reporter/disk-spool.js';
import { createReporter } from '../src/publish/reporter/reporter.js';
import type { BenchReport } from './bench-types.js';

/** Offered detection rate and duration: far above a real detection rate, to show headroom. */
const RATE_PER_S = Number(process.env['BENCH_REPORTER_RATE'] ?? 20_000);
const SECONDS = 3;
const DETECTIONS = RATE_PER_S * SECONDS;
const TICK_MS = 10;

function detection(seq: number): Detection {
  return Detection.fromPartial({
    sequence: seq,
    id: `det-${seq}`,
    timeUnixMs: Date.now(),
    requestId: `req-${seq}`,
    clientIp: '203.0.113.7',
    host: 'shop.example',
    method: 'GET',
    path: '/search',
    attackType: 'sqli',
    ruleId: 'ST-SQLI-001',
    severity: Severity.SEVERITY_HIGH,
    confidence: 0.9,
    location: 'query.q',
    fragment: "' union select password from users --",
    chain: ['url'],
    reason: 'SQL tautology after a quote',
  });
}

async function upstream(fail: boolean) {
  let received = 0;
  const server = http.createServer((req, res) => {
    let lines = 0;
    req.on('data', (c: Buffer) => {
      for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++;
    });
    req.on('end', () => {
      if (fail) res.writeHead(503).end();
      else {
        received += lines;
        res.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    received: () => received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function metricSum(registry: Registry, name: string): number {
  const m = registry.getSingleMetric(name) as unknown as { hashMap: Record<string, { value: number }> };
  return Object.values(m.hashMap).reduce((s, v) => s + v.value, 0);
}

async function publishPath(
  mode: 'none' | 'up' | 'down',
  dir: string,
  total = DETECTIONS,
): Promise<Record<string, string | number>> {
  const up = await upstream(mode === 'down');
  const config = resolveConfig({
    reporter: {
      batchSize: 500,
      flushIntervalMs: 100,
      spool: { dir, fsync: 'interval', maxBytes: 1024 * 1024 * 1024 },
      sinks:
        mode === 'none'
          ? []
          : [{ name: 'bench', type: 'http', url: up.url, volumeThreshold: 2, resetTimeoutMs: 60_000 }],
    },
  } as Options).reporter;
  const registry = new Registry();
  const reporter = await createReporter({ config, logger: silentLogger(), registry });
  const dets = Array.from({ length: total }, (_, i) => detection(i + 1));
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  let enqueueNs = 0n;
  const t0 = process.hrtime.bigint();
  // Paced producer: every tick, enqueue what the offered rate says is due by now.
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((Number(process.hrtime.bigint() - t0) / 1e9) * RATE_PER_S) + 1);
    const s = process.hrtime.bigint();
    for (; sent < due; sent++) reporter.enqueue(dets[sent]!);
    enqueueNs += process.hrtime.bigint() - s;
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  await reporter.flush();
  const dropped = (): number =>
    mode === 'none' ? 0 : metricSum(registry, 'shadowtap_reporter_dropped_detections_total');
  if (mode === 'up') while (up.received() + dropped() < total) await new Promise((r) => setTimeout(r, 5));
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  lag.disable();
  await reporter.close(2000);
  await up.close();
  return {
    case: { none: 'baseline: no sink', up: 'upstream up (delivered)', down: 'upstream down (spooled)' }[mode],
    detections: total,
    'enqueue ns/detection': Math.round(Number(enqueueNs) / total),
    'event-loop delay p99 ms': Number((lag.percentile(99) / 1e6).toFixed(2)),
    'event-loop delay max ms': Number((lag.max / 1e6).toFixed(2)),
    'wall s (to delivered/spooled)': Number((totalMs / 1000).toFixed(2)),
    dropped: dropped(),
    'batches via spool': mode === 'none' ? 0 : metricSum(registry, 'shadowtap_reporter_replayed_batches_total'),
  };
}

async function spoolAppend(
  fsync: 'always' | 'interval' | 'never',
  dir: string,
): Promise<Record<string, string | number>> {
  const spool = await openDiskSpool({
    dir,
    maxBytes: 1024 * 1024 * 1024,
    segmentBytes: 8 * 1024 * 1024,
    fsync,
    fsyncIntervalMs: 1000,
    whenFull: 'drop-oldest',
    logger: silentLogger(),
  });
  const batch = {
    id: 'bench-1',
    createdUnixMs: Date.now(),
    detections: Array.from({ length: 100 }, (_, i) => Detection.toJSON(detection(i)) as Record<string, unknown>),
  };
  const n = fsync === 'always' ? 200 : 600;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await spool.append(batch);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const bytes = spool.bytes;
  await spool.close();
  return {
    case: `spool append, fsync ${fsync}`,
    detections: n * 100,
    'batches/s': Math.round(n / s),
    'MB/s': Number((bytes / 1e6 / s).toFixed(1)),
  };
}

export default async function bench(): Promise<BenchReport[]> {
  const root = mkdtempSync(join(tmpdir(), 'shadowtap-bench-reporter-'));
  try {
    // Warm-up (JIT, module loading) so the first measured case is not charged for it.
    await publishPath('up', join(root, 'warm'), 20_000);
    const publish = [];
    for (const mode of ['none', 'up', 'down'] as const) publish.push(await publishPath(mode, join(root, mode)));
    const spool = [];
    for (const f of ['always', 'interval', 'never'] as const)
      spool.push(await spoolAppend(f, join(root, `spool-${f}`)));
    return [
      {
        name: 'Reporter publish path',
        rows: publish,
        notes: [
          `${DETECTIONS} detections offered at ${RATE_PER_S}/s for ${SECONDS} s (enqueued every ${TICK_MS} ms, as the publish path interleaves with ingest); batchSize 500, one HTTP NDJSON sink on loopback.`,
          'The upstream HTTP server runs in the same process, so its request parsing is part of the event-loop delay of the "up" case; numbers are from a 2-core machine shared with other work (load average ~10), so delays vary widely between runs.',
          'enqueue ns/detection is the synchronous time inside enqueue (toJSON + batching); "down" = the upstream answers 503, the breaker opens and batches go to the spool (fsync interval).',
        ],
      },
      {
        name: 'Reporter spool append',
        rows: spool,
        notes: [
          'Batches of 100 detections (~50 KB each) appended one after the other to a fresh spool in the OS temp dir.',
        ],
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
