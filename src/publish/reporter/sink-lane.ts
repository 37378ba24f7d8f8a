import CircuitBreaker from 'opossum';
import { ERR_SINK_FAILED, ERR_SINK_REJECTED } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { DiskSpool, SpoolRef } from './disk-spool.js';
import { BREAKER_STATE, type ReporterMetrics } from './reporter-metrics.js';
import type { ReportBatch, SendResult, Sink, SinkConfig } from './sink.js';

export interface SinkLaneOptions {
  sink: Sink;
  config: SinkConfig;
  spool: DiskSpool;
  /** Detections held in memory before batches go to the spool. */
  maxBuffered: number;
  replayBatchesPerSecond: number;
  metrics: ReporterMetrics;
  logger: Logger;
}

/** One sink's delivery path: memory queue → breaker → sink, spilling to its own spool. */
export interface SinkLane {
  readonly name: string;
  /** Takes a sealed batch. Synchronous, never throws, never waits on I/O. */
  push(batch: ReportBatch, counter: number): void;
  /** Resolves when every batch up to `counter` is delivered, spooled or dropped (counted). */
  settled(counter: number): Promise<void>;
  /** Gives in-flight work until `deadline` (epoch ms), then spools what is left and closes. */
  close(deadline: number): Promise<void>;
}

interface Entry {
  batch: ReportBatch;
  counter: number;
  /** Set once the entry was written to the spool while it was being sent from memory. */
  spilled?: Promise<SpoolRef | undefined>;
}

const isRejected = (err: unknown): boolean => (err as { code?: unknown }).code === ERR_SINK_REJECTED.code;

/*
 * Ordering: the lane is one FIFO whose older part may be on disk. Memory is used only while
 * the spool is empty (and nothing is on its way to it) and the breaker is closed, so at any
 * time either the memory queue or the spool holds the lane's oldest batches, never both.
 * When a batch must be spooled, the whole memory queue goes first, the batch in flight
 * included (its record becomes the spool head and is acknowledged if that send succeeds).
 * One batch is in flight at a time, so upstreams see batches in creation order.
 */
export function createSinkLane(opts: SinkLaneOptions): SinkLane {
  const { sink, config, spool, metrics } = opts;
  const name = sink.name;
  const labels = { sink: name };
  const log = opts.logger.child({ sink: name });

  const memory: Entry[] = [];
  let memoryDetections = 0;
  let pendingAppends = 0;
  let pendingDetections = 0;
  let settledUpTo = 0;
  const waiters: Array<{ counter: number; resolve: () => void }> = [];
  let pumping = false;
  let pumpDone: Promise<void> = Promise.resolve();
  let stopping = false;
  let lastReplayAt = 0;
  let wake: (() => void) | undefined;
  let inflight: AbortController | undefined;

  const breaker = new CircuitBreaker(
    async (batch: ReportBatch, signal: AbortSignal): Promise<SendResult | void> => sink.send(batch, signal),
    {
      name,
      timeout: config.timeoutMs,
      errorThresholdPercentage: config.errorThresholdPercentage,
      resetTimeout: config.resetTimeoutMs,
      volumeThreshold: config.volumeThreshold,
      // A batch the upstream refused for good says nothing about the upstream's health.
      errorFilter: isRejected,
    },
  );
  const onState = (state: keyof typeof BREAKER_STATE): void => {
    metrics.breakerState.set(labels, BREAKER_STATE[state]);
    metrics.breakerTransitions.inc({ sink: name, state });
    const fields = { state, spooledRecords: spool.records, bufferedDetections: memoryDetections };
    if (state === 'open') log.warn(fields, 'circuit breaker opened; batches go to the spool');
    else log.info(fields, `circuit breaker ${state}`);
    wake?.();
  };
  breaker.on('open', () => onState('open'));
  breaker.on('halfOpen', () => onState('half-open'));
  breaker.on('close', () => onState('closed'));
  metrics.breakerState.set(labels, BREAKER_STATE.closed);

  const updateGauges = (): void => {
    metrics.spoolBytes.set(labels, spool.bytes);
    metrics.spoolRecords.set(labels, spool.records);
    metrics.spoolDetections.set(labels, spool.detections);
    metrics.bufferedDetections.set(labels, memoryDetections + pendingDetections);
  };
  updateGauges();

  const settle = (counter: number): void => {
    if (counter > settledUpTo) settledUpTo = counter;
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (w.counter <= settledUpTo) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  const drop = (detections: number, reason: string, extra: Record<string, unknown> = {}): void => {
    if (detections <= 0) return;
    metrics.droppedDetections.inc({ sink: name, reason }, detections);
    log.error({ ...extra, detections, reason }, 'detections dropped');
  };

  /** Writes one entry to the spool tail; resolves to its record, or undefined if dropped. */
  const append = (entry: Entry): Promise<SpoolRef | undefined> => {
    const n = entry.batch.detections.length;
    pendingAppends++;
    pendingDetections += n;
    updateGauges();
    return spool.append(entry.batch).then((res) => {
      pendingAppends--;
      pendingDetections -= n;
      drop(res.evictedDetections, 'spool_full', { policy: 'drop-oldest' });
      if (!res.spooled) drop(n, res.dropReason ?? 'io_error', { batchId: entry.batch.id });
      updateGauges();
      settle(entry.counter);
      kick();
      return res.ref;
    });
  };

  /** Moves the whole memory queue, the batch in flight included, to the spool, in order. */
  const spill = (): void => {
    for (const entry of memory.splice(0)) {
      const p = append(entry);
      if (entry === current) entry.spilled = p;
    }
    memoryDetections = 0;
    updateGauges();
  };
  let current: Entry | undefined;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const send = async (batch: ReportBatch): Promise<SendResult | void> => {
    inflight = new AbortController();
    const ac = inflight;
    // opossum's timeout only stops waiting; this also stops the request itself.
    const t = setTimeout(
      () => ac.abort(ERR_SINK_FAILED(name, `timed out after ${config.timeoutMs} ms`)),
      config.timeoutMs,
    );
    try {
      return await breaker.fire(batch, ac.signal);
    } finally {
      clearTimeout(t);
      inflight = undefined;
    }
  };

  const delivered = (batch: ReportBatch, result: SendResult | void): void => {
    const rejected = Math.min(result?.rejectedDetections ?? 0, batch.detections.length);
    metrics.deliveredBatches.inc(labels);
    metrics.deliveredDetections.inc(labels, batch.detections.length - rejected);
    drop(rejected, 'rejected', { batchId: batch.id });
  };

  const failed = (batch: ReportBatch, err: unknown): void => {
    metrics.failedBatches.inc(labels);
    if (isRejected(err)) drop(batch.detections.length, 'rejected', { batchId: batch.id, err });
    else log.warn({ err, batchId: batch.id, breaker: breaker.opened ? 'open' : 'closed' }, 'batch delivery failed');
  };

  const pump = async (): Promise<void> => {
    while (!stopping) {
      if (breaker.opened) {
        await new Promise<void>((resolve) => {
          wake = () => {
            wake = undefined;
            resolve();
          };
        });
        continue;
      }
      const entry = memory[0];
      if (entry) {
        current = entry;
        try {
          const result = await send(entry.batch);
          delivered(entry.batch, result);
          if (memory[0] === entry) {
            memory.shift();
            memoryDetections -= entry.batch.detections.length;
          }
          settle(entry.counter);
          const ref = await entry.spilled;
          if (ref) await spool.ack(ref);
        } catch (err) {
          failed(entry.batch, err);
          if (isRejected(err)) {
            if (memory[0] === entry) {
              memory.shift();
              memoryDetections -= entry.batch.detections.length;
            }
            settle(entry.counter);
            const ref = await entry.spilled;
            if (ref) await spool.ack(ref);
          } else {
            if (!entry.spilled) spill();
            if (!breaker.opened && !stopping) await sleep(config.retryDelayMs);
          }
        } finally {
          current = undefined;
          updateGauges();
        }
        continue;
      }
      if (spool.records === 0) break;
      // Replay at a bounded rate so a recovering upstream is not flooded with the backlog.
      const gap = 1000 / opts.replayBatchesPerSecond - (Date.now() - lastReplayAt);
      if (gap > 0) {
        await sleep(gap);
        continue;
      }
      const head = await spool.head();
      if (!head || stopping) break;
      lastReplayAt = Date.now();
      try {
        const result = await send(head.batch);
        delivered(head.batch, result);
        metrics.replayedBatches.inc(labels);
        await spool.ack(head.ref);
      } catch (err) {
        failed(head.batch, err);
        if (isRejected(err)) await spool.ack(head.ref);
        else if (!breaker.opened && !stopping) await sleep(config.retryDelayMs);
      } finally {
        updateGauges();
      }
    }
  };

  function kick(): void {
    if (pumping || stopping) return;
    pumping = true;
    // Start on a later turn of the event loop: encoding and sending must never run inside
    // enqueue, which is on the ingest path.
    pumpDone = new Promise<void>((resolve) => setImmediate(resolve))
      .then(pump)
      .catch((err: unknown) => log.error({ err }, 'reporter lane failed; restarting'))
      .finally(() => {
        pumping = false;
        if (!stopping && (memory.length > 0 || (spool.records > 0 && !breaker.opened))) kick();
      });
  }

  // What a previous run left in the spool goes out before anything new.
  if (spool.records > 0) kick();

  return {
    name,
    push(batch, counter) {
      const n = batch.detections.length;
      const entry: Entry = { batch, counter };
      const mustSpool =
        stopping ||
        spool.records > 0 ||
        pendingAppends > 0 ||
        !breaker.closed ||
        memoryDetections + n > opts.maxBuffered;
      if (!mustSpool) {
        memory.push(entry);
        memoryDetections += n;
        updateGauges();
        kick();
        return;
      }
      // Bound memory while the disk is slower than the detections coming in: a spill may
      // hand the spool up to maxBuffered at once, new batches get as much again.
      if (pendingDetections + n > 2 * opts.maxBuffered) {
        drop(n, 'overload', { batchId: batch.id });
        settle(counter);
        return;
      }
      spill();
      void append(entry);
    },
    settled(counter) {
      if (counter <= settledUpTo) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ counter, resolve }));
    },
    async close(deadline) {
      // Let the memory queue drain while the upstream answers, until the deadline.
      while (memory.length > 0 && breaker.closed && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      stopping = true;
      spill();
      inflight?.abort(ERR_SINK_FAILED(name, 'reporter closing'));
      wake?.();
      await pumpDone;
      // Appends already queued on the spool finish before it closes.
      await spool.close();
      breaker.shutdown();
      await sink.close();
      for (const w of waiters.splice(0)) w.resolve();
      updateGauges();
    },
  };
}
