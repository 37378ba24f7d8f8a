import type { Config } from '../config/config.js';
import type { Logger } from '../core/logger.js';
import type { CoreMetrics } from '../core/metrics.js';
import type { AnalysisResult, CapturedExchange, SourceName } from '../core/model.js';
import type { Pipeline, ShedReason, SubmitOptions, SubmitOutcome } from '../core/pipeline.js';
import { decodeExchange, encodeExchange, packBatch } from './batch-codec.js';
import { hasCheapSignal } from './cheap-signals.js';
import type { DetectPool } from './detect-pool.js';
import { eventLoopLoad } from './listener-load.js';

/**
 * Called with every analysed exchange (publish stage). The exchange itself is unpacked only
 * when asked for: most results have no finding and never need it.
 */
export type ResultHandler = (result: AnalysisResult, options: SubmitOptions, exchange: () => CapturedExchange) => void;

export interface Admission extends Pipeline {
  /** Exchanges waiting for a worker. */
  depth(): number;
  /** Stops admitting, drains what is queued within timeoutMs, then sheds the rest. */
  close(timeoutMs: number): Promise<void>;
}

interface Entry {
  /** The exchange as packed by encodeExchange (see batch-codec.ts for why it is packed here). */
  packed: Uint8Array;
  id: string;
  source: SourceName;
  /** Body bytes (request + response): what maxQueuedBytes bounds. */
  bodyBytes: number;
  options: SubmitOptions;
  waiter?: (result: AnalysisResult | null) => void;
}

// Yielding to the listener (admission.yieldToListener): entered when, over one window,
// admission shed work and the listener's event loop was busy ≥ YIELD_ENTER; left when a
// window passes without shedding or with the loop busy < YIELD_LEAVE. The gap between the
// two keeps a listener that just got its core back from flapping at every window.
const YIELD_WINDOW_MS = 100;
const YIELD_ENTER = 0.9;
const YIELD_LEAVE = 0.5;

/**
 * Admission is the only place that drops work. A bounded FIFO sits in front of the pool;
 * batches go to workers only while the pool has free capacity, so neither piscina's queue
 * nor any socket ever holds work that admission does not count. `submit` is O(1) and never
 * waits: the shadow listener answers the mirror regardless of what happens here.
 */
export function createAdmission(opts: {
  config: Config['admission'];
  pool: DetectPool;
  metrics: CoreMetrics;
  logger: Logger;
  onResult: ResultHandler;
  /** The listener thread's event-loop utilisation since the previous call (default: this thread's). */
  listenerLoad?: () => number;
  /** Tests: a shorter yield window. */
  yieldWindowMs?: number;
}): Admission {
  const { config, pool, metrics, logger, onResult } = opts;
  // Ring buffer: O(1) push/shift without Array#shift's copying on large queues.
  const ring: Array<Entry | undefined> = new Array<Entry | undefined>(config.queueSize);
  let head = 0;
  let size = 0;
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;
  let closing = false;
  let sampleCounter = 0;
  // Bytes of bodies held by queued entries: the queue is bounded in bytes as well as in
  // entries, so that large uploads cannot make queueSize × maxBodyBytes resident.
  let queuedBytes = 0;
  const idleWaiters: Array<() => void> = [];
  // Overload sheds (queue_full, sampled_out) in the current yield window.
  let overloadSheds = 0;
  let yielding = false;
  metrics.poolUtilization.setSource(() => pool.utilization());
  metrics.queueDepth.setSource(() => size);
  metrics.yielding.setSource(() => (yielding ? 1 : 0));

  // Under overload the listener and the detection threads want the same cores, and the
  // scheduler shares them evenly: the listener, which must answer every mirrored request,
  // then answers late, while the extra analysis it loses to only decides which requests
  // admission sheds. So while admission is shedding and the listener's loop is saturated,
  // batches go to one thread fewer, leaving the listener a core. Inside the process, unlike
  // worker niceness, which also yields to every other process on the host.
  const listenerLoad = opts.listenerLoad ?? eventLoopLoad();
  const yieldTimer =
    config.yieldToListener && pool.threads > 1
      ? setInterval(() => {
          const load = listenerLoad();
          if (!yielding && overloadSheds > 0 && load >= YIELD_ENTER) {
            yielding = true;
            logger.debug({ load }, 'listener saturated while shedding: detection yields one thread');
          } else if (yielding && (overloadSheds === 0 || load < YIELD_LEAVE)) {
            yielding = false;
            logger.debug({ load, overloadSheds }, 'detection back on every thread');
            dispatch();
          }
          overloadSheds = 0;
        }, opts.yieldWindowMs ?? YIELD_WINDOW_MS)
      : undefined;
  yieldTimer?.unref();
  // Batches in flight: two per thread (detect-pool.ts); while yielding, threads − 1 (piscina
  // hands a batch to an idle thread first, so that many batches leave one thread idle).
  const inFlightLimit = (): number => (yielding ? pool.threads - 1 : pool.capacity);

  const shed = (reason: ShedReason, waiter?: Entry['waiter']): SubmitOutcome => {
    if (reason === 'queue_full' || reason === 'sampled_out') overloadSheds++;
    metrics.shed.inc({ reason });
    waiter?.(null);
    return { accepted: false, reason };
  };

  const take = (): Entry | undefined => {
    if (size === 0) return undefined;
    const entry = ring[head];
    ring[head] = undefined;
    head = (head + 1) % ring.length;
    size--;
    queuedBytes -= entry!.bodyBytes;
    return entry;
  };

  const dispatch = (): void => {
    while (inFlight < inFlightLimit() && size > 0) {
      const batch: Entry[] = [];
      while (batch.length < config.batchSize && size > 0) batch.push(take()!);
      inFlight++;
      void runBatch(batch);
    }
    if (size === 0 && inFlight === 0) for (const w of idleWaiters.splice(0)) w();
  };

  const runBatch = async (batch: Entry[]): Promise<void> => {
    let results: AnalysisResult[];
    try {
      results = await pool.run(packBatch(batch.map((e) => e.packed)));
    } catch (err) {
      logger.error({ err, size: batch.length }, 'worker batch failed');
      for (const e of batch) shed('worker_error', e.waiter);
      results = [];
    }
    const byId = new Map(results.map((r) => [r.exchangeId, r]));
    for (const entry of batch) {
      const result = byId.get(entry.id);
      if (!result) continue;
      metrics.analyzed.inc({ source: entry.source });
      metrics.analysisSeconds.observe(result.durationMs / 1000);
      for (const a of result.anomalies) metrics.anomalies.inc({ code: a.code });
      try {
        onResult(result, entry.options, () => decodeExchange(entry.packed));
      } catch (err) {
        logger.error({ err }, 'publishing a result failed');
      }
      entry.waiter?.(result);
    }
    inFlight--;
    dispatch();
  };

  const schedule = (): void => {
    if (size >= config.batchSize || config.batchWindowMs === 0) {
      dispatch();
    } else if (!timer) {
      // A partial batch waits at most batchWindowMs so that a trickle of requests is not
      // held back waiting for company.
      timer = setTimeout(() => {
        timer = undefined;
        dispatch();
      }, config.batchWindowMs);
      timer.unref();
    }
  };

  const admit = (
    exchange: CapturedExchange,
    options: SubmitOptions,
    waiter?: (result: AnalysisResult | null) => void,
  ): SubmitOutcome => {
    metrics.received.inc({ source: exchange.source });
    if (closing) return shed('shutting_down', waiter);
    const bodyBytes = exchange.body.byteLength + (exchange.response?.body.byteLength ?? 0);
    if (size >= config.queueSize || queuedBytes + bodyBytes > config.maxQueuedBytes) return shed('queue_full', waiter);
    if (config.overloadSampleRate > 1 && size >= (config.queueSize * 3) / 4) {
      // Under pressure keep 1 in N instead of dropping the whole tail, and always keep (while
      // there is room) requests that carry a cheap suspicious signal: they are the ones worth
      // the CPU. The signal test runs only here, when sampling, never on the normal path.
      if (!hasCheapSignal(exchange) && sampleCounter++ % config.overloadSampleRate !== 0) {
        return shed('sampled_out', waiter);
      }
    }
    // Packed only once admitted: a shed exchange costs nothing more.
    const entry: Entry = {
      packed: encodeExchange(exchange),
      id: exchange.id,
      source: exchange.source,
      bodyBytes,
      options,
    };
    if (waiter) entry.waiter = waiter;
    ring[(head + size) % ring.length] = entry;
    size++;
    queuedBytes += bodyBytes;
    schedule();
    return { accepted: true };
  };

  return {
    submit: (exchange, options = {}) => admit(exchange, options),
    submitAndWait(exchange, timeoutMs, options = {}) {
      return new Promise<AnalysisResult | null>((resolve) => {
        let done = false;
        const finish = (r: AnalysisResult | null): void => {
          if (done) return;
          done = true;
          clearTimeout(t);
          resolve(r);
        };
        const t = setTimeout(() => finish(null), timeoutMs);
        admit(exchange, options, finish);
      });
    },
    depth: () => size,
    async close(timeoutMs) {
      closing = true;
      clearInterval(yieldTimer);
      // Draining gets every thread.
      yielding = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      dispatch();
      if (size > 0 || inFlight > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, timeoutMs);
          idleWaiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      // Whatever could not be analysed in time is shed, and counted, not silently lost.
      for (let e = take(); e; e = take()) shed('shutting_down', e.waiter);
    },
  };
}
