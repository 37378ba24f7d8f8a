import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { resolveConfig, type Options } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { Detection, Severity } from '../src/gen/shadowtap/v1/detection.js';
import { createReporter } from '../src/publish/reporter/reporter.js';
import { createHttpSink } from '../src/publish/reporter/sink-http.js';
import type { DetectionJson, ReportBatch, SinkConfig } from '../src/publish/reporter/sink.js';

const root = mkdtempSync(join(tmpdir(), 'shadowtap-http-sink-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Received {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

type Answer = { status: number; body?: string };

async function upstream(answer: (r: Received) => Answer = () => ({ status: 200, body: '{}' })) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks), url: req.url ?? '' };
      received.push(r);
      const a = answer(r);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function det(seq: number, attackType = 'sqli'): DetectionJson {
  return Detection.toJSON(
    Detection.fromPartial({
      sequence: seq,
      id: `det-${seq}`,
      timeUnixMs: 1_764_000_000_000 + seq,
      attackType,
      ruleId: 'ST-SQLI-001',
      severity: Severity.SEVERITY_MEDIUM,
      fragment: 'union select',
    }),
  ) as DetectionJson;
}

const batch: ReportBatch = { id: 'p1-42', createdUnixMs: 1, detections: [det(1), det(2, 'xss'), det(3)] };

function sinkConfig(url: string, over: Record<string, unknown> = {}): SinkConfig {
  return resolveConfig({ reporter: { sinks: [{ name: 'web', type: 'http', url, ...over }] } } as Options).reporter
    .sinks[0]!;
}

describe('http sink', () => {
  it('ndjson: one detection per line, batch id in the header and every line, configured headers', async () => {
    const up = await upstream();
    const sink = createHttpSink(sinkConfig(up.url, { headers: { authorization: 'Bearer s3cret-token-value' } }));
    await sink.send(batch);
    const r = up.received[0]!;
    assert.equal(r.headers['x-shadowtap-batch-id'], 'p1-42');
    assert.equal(r.headers['content-type'], 'application/x-ndjson');
    assert.equal(r.headers['authorization'], 'Bearer s3cret-token-value');
    const lines = r.body
      .toString()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l['sequence'], l['batchId'], l['severity']]),
      [
        [1, 'p1-42', 'SEVERITY_MEDIUM'],
        [2, 'p1-42', 'SEVERITY_MEDIUM'],
        [3, 'p1-42', 'SEVERITY_MEDIUM'],
      ],
    );
    await sink.close();
    await up.close();
  });

  it('json array, gzip-compressed', async () => {
    const up = await upstream();
    const sink = createHttpSink(sinkConfig(up.url, { format: 'json', gzip: true }));
    await sink.send(batch);
    const r = up.received[0]!;
    assert.equal(r.headers['content-encoding'], 'gzip');
    const arr = JSON.parse(gunzipSync(r.body).toString()) as Array<{ sequence: number; batchId: string }>;
    assert.deepEqual(
      arr.map((d) => d.sequence),
      [1, 2, 3],
    );
    assert.ok(arr.every((d) => d.batchId === 'p1-42'));
    await sink.close();
    await up.close();
  });

  it('splunk-hec: concatenated events with time, sourcetype, index and fields.batch_id', async () => {
    const up = await upstream(() => ({ status: 200, body: '{"text":"Success","code":0}' }));
    const sink = createHttpSink(sinkConfig(up.url, { format: 'splunk-hec', index: 'sec' }));
    await sink.send(batch);
    const text = up.received[0]!.body.toString();
    const events = text.split(/(?<=\})(?=\{"time")/).map((e) => JSON.parse(e) as Record<string, unknown>);
    assert.equal(events.length, 3);
    assert.equal(events[0]!['time'], 1_764_000_000.001);
    assert.equal(events[0]!['sourcetype'], 'shadowtap:detection');
    assert.equal(events[0]!['index'], 'sec');
    assert.deepEqual(events[0]!['fields'], { batch_id: 'p1-42' });
    assert.equal((events[2]!['event'] as { sequence: number }).sequence, 3);
    await sink.close();
    await up.close();
  });

  it('splunk-hec: a non-zero HEC code fails the batch', async () => {
    const up = await upstream(() => ({ status: 200, body: '{"text":"Server is busy","code":9}' }));
    const sink = createHttpSink(sinkConfig(up.url, { format: 'splunk-hec' }));
    await assert.rejects(sink.send(batch), { code: 'ST_ERR_SINK_FAILED' });
    await sink.close();
    await up.close();
  });

  it('elastic-bulk: create actions keyed by detection id; 409 counts as delivered, 400 items as rejected', async () => {
    const up = await upstream(() => ({
      status: 200,
      body: JSON.stringify({
        errors: true,
        items: [{ create: { status: 201 } }, { create: { status: 409 } }, { create: { status: 400, error: {} } }],
      }),
    }));
    const sink = createHttpSink(sinkConfig(up.url, { format: 'elastic-bulk', index: 'st' }));
    const result = await sink.send(batch);
    assert.deepEqual(result, { rejectedDetections: 1 });
    const lines = up.received[0]!.body.toString()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 6);
    assert.deepEqual(lines[0], { create: { _index: 'st', _id: 'det-1' } });
    assert.equal(lines[1]!['@timestamp'], new Date(1_764_000_000_001).toISOString());
    assert.equal(lines[1]!['batchId'], 'p1-42');
    await sink.close();
    await up.close();
  });

  it('elastic-bulk: a 429 item fails the whole batch for a retry', async () => {
    const up = await upstream(() => ({
      status: 200,
      body: JSON.stringify({ errors: true, items: [{ create: { status: 201 } }, { create: { status: 429 } }] }),
    }));
    const sink = createHttpSink(sinkConfig(up.url, { format: 'elastic-bulk' }));
    await assert.rejects(sink.send(batch), { code: 'ST_ERR_SINK_FAILED' });
    await sink.close();
    await up.close();
  });

  it('loki: one stream per attack type, nanosecond timestamps as strings', async () => {
    const up = await upstream(() => ({ status: 204 }));
    const sink = createHttpSink(sinkConfig(up.url, { format: 'loki' }));
    await sink.send(batch);
    const push = JSON.parse(up.received[0]!.body.toString()) as {
      streams: Array<{ stream: Record<string, string>; values: Array<[string, string]> }>;
    };
    assert.deepEqual(
      push.streams.map((s) => s.stream),
      [
        { job: 'shadowtap', attack_type: 'sqli' },
        { job: 'shadowtap', attack_type: 'xss' },
      ],
    );
    assert.equal(push.streams[0]!.values[0]![0], '1764000000001000000');
    assert.equal((JSON.parse(push.streams[0]!.values[1]![1]) as { sequence: number }).sequence, 3);
    await sink.close();
    await up.close();
  });

  it('status classes: 503 fails (retry), 400 rejects for good', async () => {
    let status = 503;
    const up = await upstream(() => ({ status, body: 'nope' }));
    const sink = createHttpSink(sinkConfig(up.url));
    await assert.rejects(sink.send(batch), { code: 'ST_ERR_SINK_FAILED' });
    status = 400;
    await assert.rejects(sink.send(batch), { code: 'ST_ERR_SINK_REJECTED' });
    await sink.close();
    await up.close();
  });

  it('a rejected batch is dropped and counted, and does not trip the breaker or block later batches', async () => {
    const up = await upstream((r) => ({ status: r.body.includes('"sequence":1,') ? 400 : 200 }));
    const registry = new Registry();
    const config = resolveConfig({
      reporter: {
        batchSize: 1,
        spool: { dir: join(root, 'rejected') },
        sinks: [{ name: 'web', type: 'http', url: up.url, volumeThreshold: 1 }],
      },
    } as Options).reporter;
    const reporter = await createReporter({ config, logger: silentLogger(), registry });
    for (let i = 1; i <= 3; i++) reporter.enqueue(Detection.fromJSON(det(i)));
    await reporter.flush();
    const dropped = await registry.getSingleMetricAsString('shadowtap_reporter_dropped_detections_total');
    assert.match(dropped, /reason="rejected"\} 1$/m);
    const delivered = await registry.getSingleMetricAsString('shadowtap_reporter_delivered_detections_total');
    assert.match(delivered, /sink="web"\} 2$/m);
    const state = await registry.getSingleMetricAsString('shadowtap_reporter_breaker_state');
    assert.match(state, /sink="web"\} 0$/m);
    await reporter.close(1000);
    await up.close();
  });

  it('refuses a non-http URL at creation', () => {
    assert.throws(() => createHttpSink(sinkConfig('ftp://x/')), { code: 'ST_ERR_SINK_CONFIG' });
  });
});
