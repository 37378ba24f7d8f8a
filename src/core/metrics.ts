import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The pipeline's core metrics, on a registry owned by one shadowtap instance (never the
 * global one, so several instances can live in one process, as tests do). Components that
 * own more metrics register them on `registry` themselves.
 */
export interface CoreMetrics {
  registry: Registry;
  received: Counter<'source'>;
  analyzed: Counter<'source'>;
  shed: Counter<'reason'>;
  rejected: Counter<'reason'>;
  detections: Counter<'attack_type'>;
  anomalies: Counter<'code'>;
  queueDepth: Gauge;
  poolUtilization: Gauge;
  analysisSeconds: Histogram;
  /**
   * Where shadowtap_pool_utilization is read from at scrape time. Piscina computes its
   * utilisation from run-time histograms (mean, stddev, percentiles): called per batch it was
   * ~8 % of the listener thread's CPU under load (perf), so it is only read when scraped.
   */
  setPoolUtilizationSource(read: () => number): void;
}

export function createCoreMetrics(registry = new Registry()): CoreMetrics {
  const registers = [registry];
  let readPoolUtilization: (() => number) | undefined;
  // Process metrics (process_resident_memory_bytes, heap, event-loop lag, …) on the instance
  // registry: memory under load is part of what operators and the benchmark watch.
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    received: new Counter({
      name: 'shadowtap_received_total',
      help: 'Exchanges received, by source',
      labelNames: ['source'],
      registers,
    }),
    analyzed: new Counter({
      name: 'shadowtap_analyzed_total',
      help: 'Exchanges fully analysed, by source',
      labelNames: ['source'],
      registers,
    }),
    shed: new Counter({
      name: 'shadowtap_shed_total',
      help: 'Exchanges dropped before analysis, by reason',
      labelNames: ['reason'],
      registers,
    }),
    rejected: new Counter({
      name: 'shadowtap_rejected_total',
      help: 'Requests rejected as malformed, by reason',
      labelNames: ['reason'],
      registers,
    }),
    detections: new Counter({
      name: 'shadowtap_detections_total',
      help: 'Detections made, by attack type',
      labelNames: ['attack_type'],
      registers,
    }),
    anomalies: new Counter({
      name: 'shadowtap_anomalies_total',
      help: 'Decode limits and anomalies met, by code',
      labelNames: ['code'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'shadowtap_admission_queue_depth',
      help: 'Exchanges waiting for a worker',
      registers,
    }),
    poolUtilization: new Gauge({
      name: 'shadowtap_pool_utilization',
      help: 'Worker pool utilisation (0..1)',
      registers,
      collect() {
        if (readPoolUtilization) this.set(readPoolUtilization());
      },
    }),
    analysisSeconds: new Histogram({
      name: 'shadowtap_analysis_seconds',
      help: 'Decode + detect time per exchange, in the worker',
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
    setPoolUtilizationSource(read) {
      readPoolUtilization = read;
    },
  };
}
