import { Counter, Gauge, type Registry } from 'prom-client';

/** The reporter's metrics, all labelled by sink and prefixed `shadowtap_reporter_`. */
export interface ReporterMetrics {
  enqueued: Counter;
  deliveredDetections: Counter<'sink'>;
  deliveredBatches: Counter<'sink'>;
  failedBatches: Counter<'sink'>;
  replayedBatches: Counter<'sink'>;
  droppedDetections: Counter<'sink' | 'reason'>;
  spoolBytes: Gauge<'sink'>;
  spoolRecords: Gauge<'sink'>;
  spoolDetections: Gauge<'sink'>;
  bufferedDetections: Gauge<'sink'>;
  breakerState: Gauge<'sink'>;
  breakerTransitions: Counter<'sink' | 'state'>;
}

/** Breaker state as a gauge value. */
export const BREAKER_STATE = { closed: 0, 'half-open': 1, open: 2 } as const;

export function createReporterMetrics(registry: Registry): ReporterMetrics {
  const registers = [registry];
  const sink = ['sink'] as const;
  return {
    enqueued: new Counter({
      name: 'shadowtap_reporter_enqueued_total',
      help: 'Detections handed to the reporter',
      registers,
    }),
    deliveredDetections: new Counter({
      name: 'shadowtap_reporter_delivered_detections_total',
      help: 'Detections an upstream accepted',
      labelNames: sink,
      registers,
    }),
    deliveredBatches: new Counter({
      name: 'shadowtap_reporter_delivered_batches_total',
      help: 'Batches an upstream accepted',
      labelNames: sink,
      registers,
    }),
    failedBatches: new Counter({
      name: 'shadowtap_reporter_failed_batches_total',
      help: 'Delivery attempts that failed (the batch is retried from the spool)',
      labelNames: sink,
      registers,
    }),
    replayedBatches: new Counter({
      name: 'shadowtap_reporter_replayed_batches_total',
      help: 'Spooled batches delivered on replay',
      labelNames: sink,
      registers,
    }),
    droppedDetections: new Counter({
      name: 'shadowtap_reporter_dropped_detections_total',
      help: 'Detections that will never be delivered, by reason',
      labelNames: ['sink', 'reason'],
      registers,
    }),
    spoolBytes: new Gauge({
      name: 'shadowtap_reporter_spool_bytes',
      help: 'Bytes of spooled batches waiting for replay',
      labelNames: sink,
      registers,
    }),
    spoolRecords: new Gauge({
      name: 'shadowtap_reporter_spool_records',
      help: 'Spooled batches waiting for replay',
      labelNames: sink,
      registers,
    }),
    spoolDetections: new Gauge({
      name: 'shadowtap_reporter_spool_detections',
      help: 'Detections in spooled batches waiting for replay',
      labelNames: sink,
      registers,
    }),
    bufferedDetections: new Gauge({
      name: 'shadowtap_reporter_buffered_detections',
      help: 'Detections held in memory for a sink (queued or being written to the spool)',
      labelNames: sink,
      registers,
    }),
    breakerState: new Gauge({
      name: 'shadowtap_reporter_breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
      labelNames: sink,
      registers,
    }),
    breakerTransitions: new Counter({
      name: 'shadowtap_reporter_breaker_transitions_total',
      help: 'Circuit breaker state changes, by new state',
      labelNames: ['sink', 'state'],
      registers,
    }),
  };
}
