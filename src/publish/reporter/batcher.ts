import { randomBytes } from 'node:crypto';
import type { DetectionJson, ReportBatch } from './sink.js';

export interface BatcherOptions {
  /** A batch is sealed when it holds this many detections… */
  batchSize: number;
  /** …or this long after its first detection, ms. */
  flushIntervalMs: number;
  /** Receives each sealed batch with its counter (1, 2, 3…). Must not throw. */
  onBatch: (batch: ReportBatch, counter: number) => void;
}

export interface Batcher {
  /** O(1): appends to the open batch, sealing it when full. */
  add(d: DetectionJson): void;
  /** Seals the open batch now (if any); returns the counter of the last sealed batch. */
  seal(): number;
  /** Stops the timer; later adds are still batched but sealed only by size or seal(). */
  stop(): void;
}

/**
 * A process-unique prefix for batch ids: start time (base36) and 32 random bits, so ids
 * from a restarted process never collide with ids already spooled or delivered.
 */
export function processStartId(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** Groups detections into size- and time-bounded batches with stable ids `<start-id>-<counter>`. */
export function createBatcher(opts: BatcherOptions, startId = processStartId()): Batcher {
  let open: DetectionJson[] = [];
  let counter = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const seal = (): number => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (open.length === 0) return counter;
    const detections = open;
    open = [];
    counter++;
    opts.onBatch({ id: `${startId}-${counter}`, createdUnixMs: Date.now(), detections }, counter);
    return counter;
  };

  return {
    add(d) {
      open.push(d);
      if (open.length >= opts.batchSize) seal();
      else if (!timer && !stopped) {
        timer = setTimeout(seal, opts.flushIntervalMs);
        timer.unref();
      }
    },
    seal,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
