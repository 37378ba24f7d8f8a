import { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import { ERR_SLOW_CONSUMER, type ShadowtapError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Detection } from '../gen/shadowtap/v1/detection.js';
import type { Filter, SubscribeResponse } from '../gen/shadowtap/v1/detection_service.js';
import { compileFilter } from './detection-filter.js';
import { openHubSegmentLog, type HubSegmentLog } from './hub-segment-log.js';
import { createStreamMetrics, type StreamMetrics } from './stream-metrics.js';

/**
 * The stream hub keeps the recent history in one ring buffer and gives every subscriber a
 * cursor into it. Publishing is O(subscribers) wake-ups and nothing more; a subscriber's
 * "queue" is the distance between its cursor and the newest sequence, bounded by
 * `subscriberQueue`. A subscriber that falls further behind is handled by the slow-consumer
 * policy (skip ahead with a gap marker, or disconnect): it can never slow publishing nor
 * other subscribers, and it is never skipped silently.
 *
 * With `logDir` set, every published detection is also appended to an on-disk segment log
 * (hub-segment-log.ts) and the ring is refilled from it at start, so sequences continue
 * across restarts and a consumer can resume after one.
 */
export interface StreamHub {
  /** Assigns the next sequence, stores the detection and wakes subscribers. */
  publish(detection: Detection): Detection;
  subscribe(opts?: { filter?: Filter | undefined; resumeAfterSequence?: number }): HubSubscription;
  /** Retained detections with sequence > after, oldest first, at most `limit`, matching filter. */
  list(after: number, limit: number, filter?: Filter): Detection[];
  lastSequence(): number;
  /** Oldest retained sequence (lastSequence()+1 when nothing is retained). */
  oldestSequence(): number;
  subscriberCount(): number;
  /** Ends every subscription and closes the segment log. */
  close(): void;
}

export interface HubSubscription {
  /** Events available now (gap markers, detections), at most `max`; empty when caught up. */
  read(max: number): SubscribeResponse[];
  /** Resolves when read() may return something new, or the subscription ended. */
  wait(): Promise<void>;
  /**
   * Calls `listener` once when the subscription ends (at once if it has); returns a function
   * that removes it, so that waiting many times on one long subscription leaks nothing.
   */
  onEnd(listener: () => void): () => void;
  /** Set when the hub ended the subscription (slow consumer with 'disconnect'). */
  readonly error: ShadowtapError | undefined;
  readonly closed: boolean;
  close(): void;
}

/** Gap reasons, as sent in `Gap.reason`. */
export type GapReason = 'evicted' | 'slow_consumer' | 'reset';

export interface StreamHubOptions {
  /** Registry for the stream metrics (a private one when omitted). */
  registry?: Registry;
  logger?: Logger;
}

export interface StreamHubWithMetrics extends StreamHub {
  readonly metrics: StreamMetrics;
}

export function createStreamHub(config: Config['hub'], opts: StreamHubOptions = {}): StreamHubWithMetrics {
  const logger = opts.logger ?? silentLogger();
  const size = config.historySize;
  const ring: Array<Detection | undefined> = new Array<Detection | undefined>(size);
  let last = 0;
  // First sequence this ring has ever held: below it nothing is retained even if the ring
  // is not full (after a restart from a log that kept less than historySize).
  let floor = 1;
  const subscribers = new Set<Sub>();
  const metrics = createStreamMetrics(opts.registry ?? new Registry(), () => subscribers.size);

  let log: HubSegmentLog | undefined;
  if (config.logDir !== undefined) {
    log = openHubSegmentLog({
      dir: config.logDir,
      segmentBytes: config.logSegmentBytes,
      maxBytes: config.logMaxBytes,
      retain: size,
      logger,
      onError: () => metrics.logErrors.inc(),
    });
    const { detections, lastSequence, skippedBytes } = log.recovery;
    for (const d of detections) ring[d.sequence % size] = d;
    last = lastSequence;
    floor = detections[0]?.sequence ?? last + 1;
    if (skippedBytes > 0) metrics.logSkippedBytes.inc(skippedBytes);
    logger.info({ dir: config.logDir, lastSequence, recovered: detections.length, skippedBytes }, 'segment log opened');
  }

  interface Sub extends HubSubscription {
    /** Called after each publish: wakes a waiting reader, applies 'disconnect' eagerly. */
    published(): void;
  }

  const oldest = (): number => Math.max(floor, last - size + 1);
  const at = (seq: number): Detection | undefined => {
    const d = ring[seq % size];
    return d && d.sequence === seq ? d : undefined;
  };

  const makeSub = (filter: Filter | undefined, resumeAfter: number): Sub => {
    const matches = compileFilter(filter);
    let waiter: (() => void) | undefined;
    let closed = false;
    let error: ShadowtapError | undefined;
    const endListeners = new Set<() => void>();
    const pendingGaps: SubscribeResponse[] = [];

    const gap = (from: number, to: number, reason: GapReason): void => {
      metrics.gaps.inc({ reason });
      pendingGaps.push({ event: { $case: 'gap', value: { fromSequence: from, toSequence: to, reason } } });
    };
    // Cursor: the next sequence this subscriber should see.
    let cursor: number;
    // A replay of retained history is not lag: only what was published after the subscription
    // started counts against subscriberQueue, so a resume within retention is never cut short.
    const liveStart = last + 1;
    const lag = (): number => last - Math.max(cursor, liveStart) + 1;
    if (resumeAfter > last) {
      // A sequence this hub never issued: the numbering restarted (no segment log, or a
      // wiped one). Say so, and replay everything retained under the new numbering.
      gap(1, oldest() - 1, 'reset');
      cursor = oldest();
    } else {
      cursor = resumeAfter > 0 ? resumeAfter + 1 : last + 1;
    }
    if (cursor < oldest()) {
      gap(cursor, oldest() - 1, 'evicted');
      cursor = oldest();
    }

    const wake = (): void => {
      const w = waiter;
      waiter = undefined;
      w?.();
    };

    const sub: Sub = {
      onEnd(listener) {
        if (closed) {
          listener();
          return () => undefined;
        }
        endListeners.add(listener);
        return () => endListeners.delete(listener);
      },
      get error() {
        return error;
      },
      get closed() {
        return closed;
      },
      read(max) {
        if (closed) return [];
        if (cursor < oldest()) {
          gap(cursor, oldest() - 1, 'evicted');
          cursor = oldest();
        }
        if (lag() > config.subscriberQueue) {
          // Only 'drop-oldest' gets here: 'disconnect' is applied at publish time.
          const skipTo = last - config.subscriberQueue + 1;
          gap(cursor, skipTo - 1, 'slow_consumer');
          cursor = skipTo;
        }
        const out = pendingGaps.splice(0, max);
        let delivered = 0;
        while (out.length < max && cursor <= last) {
          const d = at(cursor);
          cursor++;
          if (d && matches(d)) {
            out.push({ event: { $case: 'detection', value: d } });
            delivered++;
          }
        }
        if (delivered > 0) metrics.delivered.inc(delivered);
        return out;
      },
      wait() {
        if (closed || pendingGaps.length > 0 || cursor <= last) return Promise.resolve();
        return new Promise<void>((resolve) => {
          waiter = resolve;
        });
      },
      published() {
        // Eager so that a consumer blocked on flow control (never calling read) is still cut.
        if (config.slowConsumer === 'disconnect' && lag() > config.subscriberQueue) {
          error = ERR_SLOW_CONSUMER(config.subscriberQueue);
          metrics.slowConsumerDisconnects.inc();
          sub.close();
          return;
        }
        wake();
      },
      close() {
        if (closed) return;
        closed = true;
        subscribers.delete(sub);
        wake();
        for (const l of [...endListeners]) l();
        endListeners.clear();
      },
    };
    return sub;
  };

  return {
    metrics,
    publish(detection) {
      last++;
      const stored = { ...detection, sequence: last };
      ring[last % size] = stored;
      log?.append(stored);
      for (const s of subscribers) s.published();
      return stored;
    },
    subscribe(opts = {}) {
      const sub = makeSub(opts.filter, opts.resumeAfterSequence ?? 0);
      subscribers.add(sub);
      return sub;
    },
    list(after, limit, filter) {
      const matches = compileFilter(filter);
      const out: Detection[] = [];
      for (let seq = Math.max(after + 1, oldest()); seq <= last && out.length < limit; seq++) {
        const d = at(seq);
        if (d && matches(d)) out.push(d);
      }
      return out;
    },
    lastSequence: () => last,
    oldestSequence: oldest,
    subscriberCount: () => subscribers.size,
    close() {
      for (const s of [...subscribers]) s.close();
      log?.close();
    },
  };
}
