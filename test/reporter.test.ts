import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { resolveConfig, type Options } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { Detection, Severity } from '../src/gen/shadowtap/v1/detection.js';
import { encodeRecord } from '../src/publish/reporter/disk-spool.js';
import { createReporter, type Reporter } from '../src/publish/reporter/reporter.js';

type Mode = 'ok' | 'fail' | 'hang' | 'slow';

interface Accepted {
  batchId: string;
  sequences: number[];
}

/** A loopback NDJSON upstream that can be told to fail (503), hang, or answer slowly. */
/** Closed by the test's `after` hook even when an assertion fails first. */
async function startUpstream(t: TestContext) {
  let mode: Mode = 'ok';
  const accepted: Accepted[] = [];
  const hung = new Set<http.ServerResponse>();
  let attempts = 0;
  const accept = (req: http.IncomingMessage, res: http.ServerResponse, body: string): void => {
    const lines = body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { sequence: number; batchId: string });
    const batchId = String(req.headers['x-shadowtap-batch-id']);
    assert.ok(
      lines.every((l) => l.batchId === batchId),
      'batch id in header and payload agree',
    );
    accepted.push({ batchId, sequences: lines.map((l) => l.sequence) });
    res.end('{}');
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      const body = Buffer.concat(chunks).toString('utf8');
      if (mode === 'ok') accept(req, res, body);
      else if (mode === 'fail') res.writeHead(503).end('down');
      else if (mode === 'hang') hung.add(res);
      else
        setTimeout(() => {
          // Only a request the client still waits for counts as accepted.
          if (!res.destroyed && !req.socket.destroyed) accept(req, res, body);
        }, 60);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = (): Promise<void> =>
    new Promise<void>((r) => {
      for (const res of hung) res.socket?.destroy();
      server.closeAllConnections();
      server.close(() => r());
    });
  t.after(close);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`,
    accepted,
    attempts: () => attempts,
    sequences: () => accepted.flatMap((a) => a.sequences),
    setMode(m: Mode) {
      mode = m;
      for (const res of hung) res.socket?.destroy();
      hung.clear();
    },
    close,
  };
}

/** A reporter closed by the test's `after` hook (close is idempotent). */
function closing(t: TestContext, reporter: Reporter): Reporter {
  t.after(() => reporter.close(500));
  return reporter;
}

function detection(seq: number): Detection {
  return Detection.fromPartial({
    sequence: seq,
    id: `det-${seq}`,
    timeUnixMs: 1_764_000_000_000 + seq,
    requestId: `req-${seq}`,
    host: 'shop.example',
    method: 'GET',
    path: '/search',
    attackType: 'sqli',
    ruleId: 'ST-SQLI-001',
    severity: Severity.SEVERITY_HIGH,
    confidence: 0.9,
    location: 'query.q',
    fragment: "' or 1=1 --",
    chain: ['url'],
  });
}

function reporterConfig(
  dir: string,
  url: string,
  over: Record<string, unknown> = {},
  sinkOver: Record<string, unknown> = {},
) {
  const options = {
    reporter: {
      batchSize: 10,
      flushIntervalMs: 20,
      spool: { dir, fsync: 'never', replayBatchesPerSecond: 200, ...((over['spool'] as object) ?? {}) },
      ...Object.fromEntries(Object.entries(over).filter(([k]) => k !== 'spool')),
      sinks: [
        {
          name: 'up',
          type: 'http',
          url,
          timeoutMs: 300,
          resetTimeoutMs: 150,
          volumeThreshold: 2,
          retryDelayMs: 20,
          ...sinkOver,
        },
      ],
    },
  } as Options;
  return resolveConfig(options).reporter;
}

function metric(registry: Registry, name: string, labels: Record<string, string> = {}): number {
  const m = registry.getSingleMetric(name) as unknown as {
    hashMap: Record<string, { value: number; labels: Record<string, string> }>;
  };
  assert.ok(m, `metric ${name} exists`);
  return Object.values(m.hashMap)
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((s, v) => s + v.value, 0);
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function assertOnceInOrder(accepted: Accepted[]): void {
  const ids = accepted.map((a) => a.batchId);
  assert.equal(new Set(ids).size, ids.length, 'each batch id accepted exactly once');
  const seqs = accepted.flatMap((a) => a.sequences);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    'detections arrive in order',
  );
  assert.equal(new Set(seqs).size, seqs.length, 'no detection delivered twice');
}

const childEnv = process.env['SHADOWTAP_REPORTER_CHILD'];

/** Child side of the SIGKILL test: spools forever, printing what flush() made durable. */
async function runChild(env: { dir: string; url: string }): Promise<void> {
  const config = reporterConfig(env.dir, env.url, { batchSize: 5, flushIntervalMs: 1000, spool: { fsync: 'always' } });
  const reporter = await createReporter({ config, logger: silentLogger(), registry: new Registry() });
  let seq = 0;
  for (;;) {
    for (let i = 0; i < 5; i++) reporter.enqueue(detection(++seq));
    await reporter.flush();
    process.stdout.write(`durable ${seq}\n`);
  }
}

if (childEnv) {
  await runChild(JSON.parse(childEnv) as { dir: string; url: string });
} else {
  const root = mkdtempSync(join(tmpdir(), 'shadowtap-reporter-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const spoolDir = (): string => join(root, `r${++n}`);

  describe('reporter', () => {
    it('upstream down for the whole test: breaker opens, enqueue never waits, detections are spooled', async (t) => {
      const up = await startUpstream(t);
      up.setMode('fail');
      const registry = new Registry();
      const reporter = closing(
        t,
        await createReporter({
          config: reporterConfig(spoolDir(), up.url, {}, { resetTimeoutMs: 60_000 }),
          logger: silentLogger(),
          registry,
        }),
      );
      for (let i = 1; i <= 400; i++) reporter.enqueue(detection(i));
      // The loop above ran without yielding: nothing can have touched the network or disk yet.
      assert.equal(up.attempts(), 0);
      assert.equal(metric(registry, 'shadowtap_reporter_spool_records'), 0);
      assert.equal(metric(registry, 'shadowtap_reporter_buffered_detections'), 400);
      await reporter.flush();
      await waitFor('breaker open', () => metric(registry, 'shadowtap_reporter_breaker_state', { sink: 'up' }) === 2);
      for (let i = 401; i <= 500; i++) reporter.enqueue(detection(i));
      await reporter.flush();
      assert.equal(metric(registry, 'shadowtap_reporter_spool_detections', { sink: 'up' }), 500);
      assert.ok(metric(registry, 'shadowtap_reporter_spool_bytes', { sink: 'up' }) > 0);
      assert.equal(metric(registry, 'shadowtap_reporter_delivered_detections_total'), 0);
      assert.ok(metric(registry, 'shadowtap_reporter_failed_batches_total') >= 2);
      assert.equal(metric(registry, 'shadowtap_reporter_breaker_transitions_total', { state: 'open' }), 1);
      assert.equal(metric(registry, 'shadowtap_reporter_dropped_detections_total'), 0);
      const attemptsWhileOpen = up.attempts();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(up.attempts(), attemptsWhileOpen, 'an open breaker sends nothing');
      await reporter.close(1000);
      await up.close();
    });

    it('upstream back: the spool is replayed first, each batch id accepted once, in order', async (t) => {
      const up = await startUpstream(t);
      up.setMode('fail');
      const registry = new Registry();
      const reporter = closing(
        t,
        await createReporter({
          config: reporterConfig(spoolDir(), up.url, { spool: { replayBatchesPerSecond: 10 } }),
          logger: silentLogger(),
          registry,
        }),
      );
      for (let i = 1; i <= 100; i++) reporter.enqueue(detection(i));
      await reporter.flush();
      await waitFor('breaker open', () => metric(registry, 'shadowtap_reporter_breaker_state', { sink: 'up' }) === 2);
      for (let i = 101; i <= 200; i++) reporter.enqueue(detection(i));
      await reporter.flush();
      up.setMode('ok');
      await waitFor('breaker closed', () => metric(registry, 'shadowtap_reporter_breaker_state', { sink: 'up' }) === 0);
      assert.ok(metric(registry, 'shadowtap_reporter_spool_records') > 0, 'replay is rate-bounded, still going');
      // 20 spooled batches at 10/s: the replay is still going. New detections go behind it.
      for (let i = 201; i <= 220; i++) reporter.enqueue(detection(i));
      await waitFor('all delivered', () => up.sequences().length >= 220);
      assert.deepEqual(up.sequences(), range(1, 220));
      assertOnceInOrder(up.accepted);
      await waitFor('breaker closed', () => metric(registry, 'shadowtap_reporter_breaker_state', { sink: 'up' }) === 0);
      // The upstream records a batch just before its answer reaches the reporter.
      await waitFor(
        'delivered counted',
        () => metric(registry, 'shadowtap_reporter_delivered_detections_total') === 220,
      );
      assert.ok(metric(registry, 'shadowtap_reporter_replayed_batches_total') > 0);
      await waitFor('spool empty', () => metric(registry, 'shadowtap_reporter_spool_records') === 0);
      // Healthy again: straight from memory.
      for (let i = 221; i <= 240; i++) reporter.enqueue(detection(i));
      await reporter.flush();
      assert.deepEqual(up.sequences(), range(1, 240));
      await reporter.close(1000);
      await up.close();
    });

    it('a hanging upstream times out and opens the breaker; a slow one then gets everything once', async (t) => {
      const up = await startUpstream(t);
      up.setMode('hang');
      const registry = new Registry();
      const reporter = closing(
        t,
        await createReporter({
          config: reporterConfig(spoolDir(), up.url, {}, { timeoutMs: 150 }),
          logger: silentLogger(),
          registry,
        }),
      );
      for (let i = 1; i <= 60; i++) reporter.enqueue(detection(i));
      await reporter.flush();
      await waitFor('breaker open', () => metric(registry, 'shadowtap_reporter_breaker_state', { sink: 'up' }) === 2);
      up.setMode('slow');
      await waitFor('all delivered', () => up.sequences().length >= 60);
      assert.deepEqual(up.sequences(), range(1, 60));
      assertOnceInOrder(up.accepted);
      await reporter.close(1000);
      await up.close();
    });

    for (const whenFull of ['drop-newest', 'drop-oldest'] as const) {
      it(`spool full (${whenFull}): every dropped detection is counted, the rest delivered`, async (t) => {
        const up = await startUpstream(t);
        up.setMode('fail');
        const registry = new Registry();
        const config = reporterConfig(spoolDir(), up.url, {
          spool: { maxBytes: 24_000, segmentBytes: 6000, whenFull },
        });
        const reporter = closing(t, await createReporter({ config, logger: silentLogger(), registry }));
        for (let i = 1; i <= 300; i++) reporter.enqueue(detection(i));
        await reporter.flush();
        const dropped = metric(registry, 'shadowtap_reporter_dropped_detections_total', { reason: 'spool_full' });
        const spooled = metric(registry, 'shadowtap_reporter_spool_detections');
        assert.ok(dropped > 0, 'the spool overflowed');
        assert.equal(dropped + spooled, 300, 'every detection is spooled or counted as dropped');
        up.setMode('ok');
        await waitFor('spool replayed', () => up.sequences().length >= spooled);
        const got = up.sequences();
        assert.equal(got.length, spooled);
        assertOnceInOrder(up.accepted);
        if (whenFull === 'drop-newest') assert.deepEqual(got, range(1, spooled), 'the oldest are kept');
        else assert.equal(got.at(-1), 300, 'the newest are kept');
        await reporter.close(1000);
        await up.close();
      });
    }

    it('several sinks have their own breakers: a dead one does not hold back a live one', async (t) => {
      const live = await startUpstream(t);
      const dead = await startUpstream(t);
      dead.setMode('fail');
      const registry = new Registry();
      const base = reporterConfig(spoolDir(), live.url);
      const config = { ...base, sinks: [base.sinks[0]!, { ...base.sinks[0]!, name: 'dead', url: dead.url }] };
      const reporter = closing(t, await createReporter({ config, logger: silentLogger(), registry }));
      for (let i = 1; i <= 100; i++) reporter.enqueue(detection(i));
      await reporter.flush();
      assert.deepEqual(live.sequences(), range(1, 100));
      await waitFor(
        'dead breaker open',
        () => metric(registry, 'shadowtap_reporter_breaker_state', { sink: 'dead' }) === 2,
      );
      assert.equal(metric(registry, 'shadowtap_reporter_breaker_state', { sink: 'up' }), 0);
      assert.equal(metric(registry, 'shadowtap_reporter_spool_detections', { sink: 'dead' }), 100);
      await reporter.close(1000);
      await live.close();
      await dead.close();
    });

    it('close() spools what the upstream did not take, and a restart delivers it', async (t) => {
      const dir = spoolDir();
      const up = await startUpstream(t);
      up.setMode('hang');
      const registry1 = new Registry();
      const r1 = closing(
        t,
        await createReporter({
          config: reporterConfig(dir, up.url, { flushIntervalMs: 10_000 }),
          logger: silentLogger(),
          registry: registry1,
        }),
      );
      for (let i = 1; i <= 25; i++) r1.enqueue(detection(i));
      await r1.close(200);
      assert.equal(metric(registry1, 'shadowtap_reporter_spool_detections'), 25);
      // After close: enqueue is counted as dropped, flush returns at once.
      r1.enqueue(detection(26));
      await r1.flush();
      assert.equal(metric(registry1, 'shadowtap_reporter_dropped_detections_total', { reason: 'closed' }), 1);
      up.setMode('ok');
      const r2 = closing(
        t,
        await createReporter({
          config: reporterConfig(dir, up.url),
          logger: silentLogger(),
          registry: new Registry(),
        }),
      );
      await waitFor('replayed after restart', () => up.sequences().length >= 25);
      assert.deepEqual(up.sequences(), range(1, 25));
      assertOnceInOrder(up.accepted);
      await r2.close(1000);
      await up.close();
    });

    it('refuses duplicate sink names and a spool it cannot open, with catalogue errors', async () => {
      const base = reporterConfig(spoolDir(), 'http://127.0.0.1:9/');
      const dup = { ...base, sinks: [base.sinks[0]!, base.sinks[0]!] };
      await assert.rejects(createReporter({ config: dup, logger: silentLogger(), registry: new Registry() }), {
        code: 'ST_ERR_CONFIG_INVALID',
      });
      const file = join(root, 'not-a-dir');
      writeFileSync(file, '');
      const bad = { ...base, spool: { ...base.spool, dir: file } };
      await assert.rejects(createReporter({ config: bad, logger: silentLogger(), registry: new Registry() }), {
        code: 'ST_ERR_SINK_CONFIG',
      });
    });

    it('SIGKILL mid-spool with fsync always: every detection flush() reported durable is delivered after restart', async (t) => {
      const dir = spoolDir();
      const up = await startUpstream(t);
      up.setMode('fail');
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
        env: { ...process.env, SHADOWTAP_REPORTER_CHILD: JSON.stringify({ dir, url: up.url }) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let durable = 0;
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
      for await (const line of createInterface({ input: child.stdout! })) {
        const m = /^durable (\d+)$/.exec(line);
        if (m) durable = Number(m[1]);
        if (durable >= 200) {
          child.kill('SIGKILL');
          break;
        }
      }
      assert.equal(await exited, 'SIGKILL');
      assert.ok(durable >= 200);
      // Whether or not the kill tore a write, add a torn record at the tail: half of a batch
      // that claims detections nobody enqueued. The restart must skip it.
      const segs = readdirSync(join(dir, 'up'))
        .filter((f) => f.startsWith('seg-'))
        .sort();
      const torn = encodeRecord({ id: 'torn-1', createdUnixMs: 0, detections: [{ sequence: 999_999 }] });
      appendFileSync(join(dir, 'up', segs.at(-1)!), torn.subarray(0, torn.length - 5));
      up.setMode('ok');
      const registry = new Registry();
      const reporter: Reporter = closing(
        t,
        await createReporter({
          config: reporterConfig(dir, up.url),
          logger: silentLogger(),
          registry,
        }),
      );
      await waitFor('durable detections replayed', () => up.sequences().length >= durable);
      await waitFor('spool drained', () => metric(registry, 'shadowtap_reporter_spool_records') === 0);
      const got = up.sequences();
      assert.deepEqual(got.slice(0, durable), range(1, durable), 'nothing flush() confirmed is lost');
      // Batches spooled after the last report may also be there (written before the kill), never more.
      assert.deepEqual(got, range(1, got.length));
      assertOnceInOrder(up.accepted);
      await reporter.close(1000);
      await up.close();
    });
  });
}
