import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAdmission } from '../src/admission/admission-queue.js';
import { decodeBatch } from '../src/admission/batch-codec.js';
import type { DetectPool } from '../src/admission/detect-pool.js';
import { resolveConfig } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { createCoreMetrics } from '../src/core/metrics.js';
import type { AnalysisResult, CapturedExchange } from '../src/core/model.js';
import { capturedExchange } from './helpers/exchange.js';

function exchange(id: string): CapturedExchange {
  return capturedExchange({ id, source: 'mirror', clientIp: '', host: 'h' });
}

/** A pool whose batches complete only when the test releases them. */
function manualPool(capacity: number, threads = 1) {
  const pending: Array<{ ids: string[]; resolve: (r: AnalysisResult[]) => void; reject: (e: Error) => void }> = [];
  const pool: DetectPool = {
    threads,
    capacity,
    run(batch) {
      const ids = decodeBatch(batch).map((e) => e.id);
      return new Promise((resolve, reject) => pending.push({ ids, resolve, reject }));
    },
    utilization: () => 0,
    close: async () => {},
  };
  const release = (): void => {
    const p = pending.shift()!;
    p.resolve(
      p.ids.map((id) => ({ exchangeId: id, findings: [], anomalies: [], durationMs: 1, budgetExceeded: false })),
    );
  };
  return { pool, pending, release };
}

async function counter(
  metrics: ReturnType<typeof createCoreMetrics>,
  name: 'shed' | 'received' | 'analyzed',
  labels = {},
) {
  const { values } = await metrics[name].get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
    .reduce((a, v) => a + v.value, 0);
}

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (≤ 2 s) until `done` holds; the assertions that follow say what was expected. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!(await done()) && Date.now() < deadline) await sleep(2);
}

/** Admission whose listener load the test sets, judged every 10 ms. */
function watchedAdmission(
  config: ReturnType<typeof resolveConfig>['admission'],
  pool: DetectPool,
  metrics: ReturnType<typeof createCoreMetrics>,
  listenerLoad: () => number,
) {
  return createAdmission({
    config,
    pool,
    metrics,
    logger: silentLogger(),
    onResult: () => {},
    listenerLoad,
    yieldWindowMs: 10,
  });
}

async function yielding(metrics: ReturnType<typeof createCoreMetrics>): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString('shadowtap_admission_yielding');
  return Number(/ (\d+)$/m.exec(text)?.[1]);
}

describe('admission', () => {
  it('batches, bounds the queue, sheds with a reason and never waits', async () => {
    const { pool, pending, release } = manualPool(1);
    const metrics = createCoreMetrics();
    const seen: string[] = [];
    // A long window: batches leave only when full, so the batching is deterministic.
    const config = resolveConfig({ admission: { queueSize: 4, batchSize: 2, batchWindowMs: 1000 } }).admission;
    const adm = createAdmission({
      config,
      pool,
      metrics,
      logger: silentLogger(),
      onResult: (r, _o, ex) => seen.push(ex().id),
    });
    const outcomes = Array.from({ length: 10 }, (_, i) => adm.submit(exchange(String(i))));
    // First two go to the single pool slot as one batch; four wait; four are shed.
    assert.equal(pending.length, 1);
    assert.deepEqual(pending[0]!.ids, ['0', '1']);
    assert.equal(adm.depth(), 4);
    assert.equal(outcomes.filter((o) => !o.accepted).length, 4);
    assert.deepEqual(outcomes[9], { accepted: false, reason: 'queue_full' });
    assert.equal(await counter(metrics, 'shed', { reason: 'queue_full' }), 4);
    // The depth gauge is read from admission when scraped, not set per submit.
    assert.match(await metrics.registry.getSingleMetricAsString('shadowtap_admission_queue_depth'), /depth 4$/m);
    release();
    await tick();
    assert.deepEqual(pending[0]!.ids, ['2', '3']);
    release();
    await tick();
    release();
    await tick();
    assert.deepEqual(seen, ['0', '1', '2', '3', '4', '5']);
    assert.equal(await counter(metrics, 'analyzed'), 6);
    assert.equal(await counter(metrics, 'received'), 10);
  });

  it('samples 1 in N under pressure instead of tail-dropping everything', async () => {
    const { pool } = manualPool(0);
    const metrics = createCoreMetrics();
    const config = resolveConfig({ admission: { queueSize: 16, batchSize: 16, overloadSampleRate: 2 } }).admission;
    const adm = createAdmission({ config, pool, metrics, logger: silentLogger(), onResult: () => {} });
    for (let i = 0; i < 30; i++) adm.submit(exchange(String(i)));
    // 12 admitted freely (3/4 of 16), then 1 in 2 of the next ones until the queue is full.
    assert.equal(adm.depth(), 16);
    assert.equal(await counter(metrics, 'shed', { reason: 'sampled_out' }), 3);
    assert.equal(await counter(metrics, 'shed', { reason: 'queue_full' }), 30 - 16 - 3);
  });

  it('submitAndWait resolves with the analysis, or null when shed or late', async () => {
    const { pool, release } = manualPool(1);
    const metrics = createCoreMetrics();
    const config = resolveConfig({ admission: { queueSize: 1, batchSize: 1, batchWindowMs: 0 } }).admission;
    const adm = createAdmission({ config, pool, metrics, logger: silentLogger(), onResult: () => {} });
    const first = adm.submitAndWait(exchange('a'), 1000);
    const second = adm.submitAndWait(exchange('b'), 30); // queued, but the pool is busy
    const third = adm.submitAndWait(exchange('c'), 1000); // queue full: shed at once
    assert.equal(await third, null);
    release();
    assert.equal((await first)?.exchangeId, 'a');
    assert.equal(await second, null);
  });

  it('close drains what was admitted and sheds the rest as shutting_down', async () => {
    const { pool, release, pending } = manualPool(1);
    const metrics = createCoreMetrics();
    const config = resolveConfig({ admission: { queueSize: 10, batchSize: 1, batchWindowMs: 0 } }).admission;
    const adm = createAdmission({ config, pool, metrics, logger: silentLogger(), onResult: () => {} });
    for (let i = 0; i < 3; i++) adm.submit(exchange(String(i)));
    const closed = adm.close(50);
    assert.deepEqual(adm.submit(exchange('late')), { accepted: false, reason: 'shutting_down' });
    release();
    await closed;
    assert.ok(pending.length <= 1);
    assert.equal(adm.depth(), 0);
    assert.equal((await counter(metrics, 'analyzed')) + (await counter(metrics, 'shed')) + pending.length, 4);
  });

  it('gives the saturated listener a thread while it sheds, and takes it back when the listener has slack', async () => {
    const { pool, pending, release } = manualPool(4, 2);
    const metrics = createCoreMetrics();
    let load = 0.95;
    const config = resolveConfig({ admission: { queueSize: 4, batchSize: 1, batchWindowMs: 0 } }).admission;
    assert.equal(config.yieldToListener, true, 'on by default');
    const adm = watchedAdmission(config, pool, metrics, () => load);
    // A busy listener alone is no reason to yield: nothing is being shed.
    for (let i = 0; i < 8; i++) adm.submit(exchange(`a${i}`));
    assert.equal(pending.length, 4);
    await sleep(40);
    assert.equal(await yielding(metrics), 0);

    // Overload: the queue is full, every new request is shed, the listener is saturated.
    let n = 0;
    const overload = setInterval(() => adm.submit(exchange(`b${n++}`)), 2);
    try {
      await until(async () => (await yielding(metrics)) === 1);
      assert.equal(await yielding(metrics), 1);
      // The running batches complete: only threads - 1 = 1 batch goes out again.
      while (pending.length > 0) release();
      await tick();
      assert.equal(pending.length, 1);
      // The listener has slack again: every thread is back, and the queue drains into them.
      load = 0.2;
      await until(() => pending.length === 4);
      assert.equal(pending.length, 4);
      assert.equal(await yielding(metrics), 0);
    } finally {
      clearInterval(overload);
    }
    while (pending.length > 0) {
      release();
      await tick();
    }
    await adm.close(100);
    assert.ok((await counter(metrics, 'shed', { reason: 'queue_full' })) > 0);
  });

  it('never yields with admission.yieldToListener false', async () => {
    const { pool, pending, release } = manualPool(4, 2);
    const metrics = createCoreMetrics();
    const config = resolveConfig({
      admission: { queueSize: 4, batchSize: 1, batchWindowMs: 0, yieldToListener: false },
    }).admission;
    const adm = watchedAdmission(config, pool, metrics, () => 1);
    for (let i = 0; i < 20; i++) adm.submit(exchange(String(i)));
    await sleep(30);
    while (pending.length > 0) release();
    await tick();
    assert.equal(pending.length, 4);
    assert.equal(await yielding(metrics), 0);
    while (pending.length > 0) {
      release();
      await tick();
    }
    await adm.close(100);
  });

  it('a failed batch is counted as shed (worker_error), not lost silently', async () => {
    const { pool, pending } = manualPool(1);
    const metrics = createCoreMetrics();
    const config = resolveConfig({ admission: { batchSize: 2, batchWindowMs: 1000 } }).admission;
    const adm = createAdmission({ config, pool, metrics, logger: silentLogger(), onResult: () => {} });
    adm.submit(exchange('x'));
    adm.submit(exchange('y'));
    pending.shift()!.reject(new Error('worker died'));
    await tick();
    assert.equal(await counter(metrics, 'shed', { reason: 'worker_error' }), 2);
  });
});
