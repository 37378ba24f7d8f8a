import type { Config } from '../config/config.js';
import { ERR_SLOW_CONSUMER, type ShadowtapError } from '../core/errors.js';
import type { Detection } from '../gen/shadowtap/v1/detection.js';
import type { Filter, SubscribeResponse } from '../gen/shadowtap/v1/detection_service.js';
import { compileFilter } from './detection-filter.js';

/**
 * The stream hub keeps the recent history in one ring buffer and gives every subscriber a
 * cursor into it. Publishing is O(1) whatever the number of subscribers; a subscriber's
 * "queue" is the distance between its cursor and the newest sequence, bounded by
 * `subscriberQueue`. A subscriber that falls further behind is handled by the slow-consumer
 * policy (skip ahead with a gap marker, or disconnect): it can never slow publishing nor
 * other subscribers, and it is never skipped silently.
 */
export interface StreamHub {
  /** Assigns the next sequence, stores the detection and wakes subscribers. */
  publish(detection: Detection): Detection;
  subscribe(opts?: { filter?: Filter | undefined; resumeAfterSequence?: number }): HubSubscription;
  /** Retained detections with sequence > after, oldest first, at most `limit`, matching filter. */
  list(after: number, limit: number, filter?: Filter): Detection[];
  lastSequence(): number;
  /** Oldest retained sequence (lastSequence()+1 when empty). */
  oldestSequence(): number;
  subscriberCount(): number;
  close(): void;
}

export interface HubSubscription {
  /** Events available now (gap markers, detections), at most `max`; empty when caught up. */
  read(max: number): SubscribeResponse[];
  /** Resolves when read() may return something new, or the subscription ended. */
  wait(): Promise<void>;
  /** Set when the hub ended the subscription (slow consumer with 'disconnect', hub closed). */
  readonly error: ShadowtapError | undefined;
  readonly closed: boolean;
  close(): void;
}

export function createStreamHub(config: Config['hub']): StreamHub {
  const size = config.historySize;
  const ring: Array<Detection | undefined> = new Array<Detection | undefined>(size);
  let last = 0;
  const subscribers = new Set<Sub>();

  interface Sub extends HubSubscription {
    wake(): void;
  }

  const oldest = (): number => Math.max(1, last - size + 1);
  const at = (seq: number): Detection | undefined => {
    const d = ring[seq % size];
    return d && d.sequence === seq ? d : undefined;
  };

  const makeSub = (filter: Filter | undefined, resumeAfter: number): Sub => {
    const matches = compileFilter(filter);
    // Cursor: the next sequence this subscriber should see.
    let cursor = resumeAfter > 0 ? resumeAfter + 1 : last + 1;
    let waiter: (() => void) | undefined;
    let closed = false;
    let error: ShadowtapError | undefined;
    const pendingGaps: SubscribeResponse[] = [];

    const gap = (from: number, to: number, reason: string): void => {
      pendingGaps.push({ event: { $case: 'gap', value: { fromSequence: from, toSequence: to, reason } } });
    };
    if (cursor < oldest()) {
      gap(cursor, oldest() - 1, 'evicted');
      cursor = oldest();
    }

    const sub: Sub = {
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
        const lag = last - cursor + 1;
        if (lag > config.subscriberQueue) {
          if (config.slowConsumer === 'disconnect') {
            error = ERR_SLOW_CONSUMER(config.subscriberQueue);
            sub.close();
            return [];
          }
          const skipTo = last - config.subscriberQueue + 1;
          gap(cursor, skipTo - 1, 'slow_consumer');
          cursor = skipTo;
        }
        const out = pendingGaps.splice(0, max);
        while (out.length < max && cursor <= last) {
          const d = at(cursor);
          cursor++;
          if (d && matches(d)) out.push({ event: { $case: 'detection', value: d } });
        }
        return out;
      },
      wait() {
        if (closed || pendingGaps.length > 0 || cursor <= last) return Promise.resolve();
        return new Promise<void>((resolve) => {
          waiter = resolve;
        });
      },
      wake() {
        const w = waiter;
        waiter = undefined;
        w?.();
      },
      close() {
        if (closed) return;
        closed = true;
        subscribers.delete(sub);
        sub.wake();
      },
    };
    return sub;
  };

  return {
    publish(detection) {
      last++;
      const stored = { ...detection, sequence: last };
      ring[last % size] = stored;
      for (const s of subscribers) s.wake();
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
    oldestSequence: () => (last === 0 ? 1 : oldest()),
    subscriberCount: () => subscribers.size,
    close() {
      for (const s of [...subscribers]) s.close();
    },
  };
}
