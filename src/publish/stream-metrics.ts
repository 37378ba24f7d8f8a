import { Counter, Gauge, type Registry } from 'prom-client';

/** Metrics of the stream hub and its subscribers, registered on the instance's registry. */
export interface StreamMetrics {
  subscribers: Gauge;
  /** Gap markers sent, by reason ('evicted', 'slow_consumer', 'reset'). */
  gaps: Counter<'reason'>;
  slowConsumerDisconnects: Counter;
  /** Detections handed to subscriber streams. */
  delivered: Counter;
  /** Segment log I/O failures after open. */
  logErrors: Counter;
  /** Bytes skipped at open because a record was torn or corrupt. */
  logSkippedBytes: Counter;
}

/** Registers the stream metrics; `subscriberCount` is read at scrape time. */
export function createStreamMetrics(registry: Registry, subscriberCount: () => number): StreamMetrics {
  const registers = [registry];
  return {
    subscribers: new Gauge({
      name: 'shadowtap_stream_subscribers',
      help: 'Open DetectionService subscriptions',
      registers,
      collect() {
        this.set(subscriberCount());
      },
    }),
    gaps: new Counter({
      name: 'shadowtap_stream_gaps_total',
      help: 'Gap markers sent to subscribers, by reason',
      labelNames: ['reason'],
      registers,
    }),
    slowConsumerDisconnects: new Counter({
      name: 'shadowtap_stream_slow_consumer_disconnects_total',
      help: 'Subscribers disconnected with RESOURCE_EXHAUSTED for falling behind',
      registers,
    }),
    delivered: new Counter({
      name: 'shadowtap_stream_delivered_total',
      help: 'Detections delivered to subscriber streams',
      registers,
    }),
    logErrors: new Counter({ name: 'shadowtap_hub_log_errors_total', help: 'Segment log I/O failures', registers }),
    logSkippedBytes: new Counter({
      name: 'shadowtap_hub_log_skipped_bytes_total',
      help: 'Segment log bytes skipped at open (torn or corrupt records)',
      registers,
    }),
  };
}
