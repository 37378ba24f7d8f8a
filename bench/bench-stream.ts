/**
 * Detections/s the stream hub + DetectionService deliver to 1 and to 50 subscribers.
 *
 * A real shadowtap (startShadowtap, loopback, insecure) publishes synthetic detections straight
 * into the hub as fast as the event loop allows; the subscribers run in a worker thread (their
 * own event loop, as a separate consumer process would have) and count messages without
 * decoding them. Delivered/s = subscribers × detections / wall time until the last
 * subscriber has them all. Queues are sized so that nothing is dropped: this measures the
 * delivery path, not the slow-consumer policy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { resolveConfig } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { Detection, Severity, Source } from '../src/gen/shadowtap/v1/detection.js';
import { startShadowtap } from '../src/server.js';
import type { BenchReport } from './bench-types.js';

const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const grpc = require(workerData.grpcPath);
const id = (x) => x;
const Client = grpc.makeGenericClientConstructor({
  subscribe: {
    path: '/shadowtap.v1.DetectionService/Subscribe',
    requestStream: false,
    responseStream: true,
    requestSerialize: (b) => b,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: (b) => b,
  },
}, 'DetectionService');
const { port, subscribers, expected } = workerData;
let done = 0;
let bytes = 0;
const clients = [];
for (let i = 0; i < subscribers; i++) {
  const client = new Client('127.0.0.1:' + port, grpc.credentials.createInsecure());
  clients.push(client);
  let n = 0;
  // Empty SubscribeRequest: no filter, live from the newest sequence.
  const call = client.subscribe(Buffer.alloc(0));
  call.on('data', (b) => {
    bytes += b.length;
    if (++n === expected) {
      call.cancel();
      if (++done === subscribers) {
        for (const c of clients) c.close();
        parentPort.postMessage({ done: true, bytes });
      }
    }
  });
  call.on('error', () => undefined);
}
parentPort.postMessage({ ready: true });
`;

function sample(i: number): Detection {
  return Detection.fromPartial({
    id: `bench-${i}`,
    timeUnixMs: Date.now(),
    requestId: `req-${i}`,
    source: Source.SOURCE_MIRROR,
    clientIp: '203.0.113.7',
    host: 'shop.example.com',
    method: 'GET',
    path: '/items',
    attackType: 'sqli',
    ruleId: 'ST-SQLI-001',
    severity: Severity.SEVERITY_HIGH,
    confidence: 0.9,
    location: 'query.id',
    fragment: "1' OR 1=1--",
    chain: ['url'],
    reason: 'tautology after a string literal',
  });
}

async function run(subscribers: number, detections: number, withLog = false): Promise<Record<string, string | number>> {
  const logDir = withLog ? mkdtempSync(join(tmpdir(), 'shadowtap-bench-stream-')) : undefined;
  const config = resolveConfig({
    log: { level: 'silent' },
    shadow: { host: '127.0.0.1', port: 0 },
    grpc: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    admission: { workers: 1 },
    hub: { historySize: detections, subscriberQueue: detections, logDir },
  });
  const app = await startShadowtap(config, { logger: silentLogger() });
  const worker = new Worker(CLIENT, {
    eval: true,
    workerData: {
      port: app.ports.grpc,
      subscribers,
      expected: detections,
      grpcPath: import.meta.resolve('@grpc/grpc-js').replace('file://', ''),
    },
  });
  try {
    const finished = new Promise<{ bytes: number }>((resolve, reject) => {
      worker.on('message', (m: { done?: boolean; bytes: number }) => m.done && resolve(m));
      worker.on('error', reject);
    });
    while (app.hub.subscriberCount() < subscribers) await new Promise((r) => setTimeout(r, 5));
    const template = sample(0);
    const started = performance.now();
    for (let i = 0; i < detections; i++) {
      app.hub.publish({ ...template, id: `bench-${i}` });
      // Yield now and then so the pumps run while publishing, as they do under real traffic.
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
    const published = performance.now();
    const { bytes } = await finished;
    const seconds = (performance.now() - started) / 1000;
    const gaps = await app.metrics.registry.getSingleMetric('shadowtap_stream_gaps_total')!.get();
    return {
      subscribers,
      'segment log': withLog ? 'on' : 'off',
      detections,
      'delivered/s (total)': Math.round((subscribers * detections) / seconds),
      'per subscriber/s': Math.round(detections / seconds),
      'publish ms': Math.round(published - started),
      'total s': Number(seconds.toFixed(2)),
      'bytes/detection': Math.round(bytes / (subscribers * detections)),
      gaps: gaps.values.reduce((a, v) => a + v.value, 0),
    };
  } finally {
    await worker.terminate();
    await app.close();
    if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true });
  }
}

export default async function benchStream(): Promise<BenchReport> {
  const rows = [await run(1, 50000), await run(1, 50000, true), await run(50, 4000)];
  return {
    name: 'Detection stream delivery',
    rows,
    notes: [
      'Server: startShadowtap on loopback, insecure gRPC; detections published with hub.publish (no analysis).',
      'Subscribers: one worker thread, unfiltered, messages counted but not decoded; queues sized so nothing drops.',
      'Both sides share the same machine, so this is a lower bound for a consumer on another host.',
    ],
  };
}
