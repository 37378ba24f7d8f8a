import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The pipeline's core metrics, on a registry owned by one shadowtap instance (never the
 * global one, so several instances can live in one process, as tests do). Components that
 * own more metrics register them on `registry` themselves.
 */
export interface CoreMetrics {
  registry: Registry;
  received: HotCounter<'source'>;
  analyzed: HotCounter<'source'>;
  shed: HotCounter<'reason'>;
  rejected: HotCounter<'reason'>;
  detections: HotCounter<'attack_type'>;
  anomalies: HotCounter<'code'>;
  queueDepth: Gauge;
  yielding: Gauge;
  poolUtilization: Gauge;
  analysisSeconds: Histogram;
  /** Where shadowtap_admission_queue_depth is read from at scrape time (set per admit, it was per-request work). */
  setQueueDepthSource(read: () => number): void;
  /** Where shadowtap_admission_yielding is read from at scrape time. */
  setYieldingSource(read: () => number): void;
  /**
   * Where shadowtap_pool_utilization is read from at scrape time. Piscina computes its
   * utilisation from run-time histograms (mean, stddev, percentiles): called per batch it was
   * ~8 % of the listener thread's CPU under load (perf), so it is only read when scraped.
   */
  setPoolUtilizationSource(read: () => number): void;
}

/**
 * A counter with one label, for the per-request path. `inc` adds to a plain number; the
 * prom-client Counter behind it catches up when it is collected (a scrape, or `get`).
 * prom-client's own `inc` hashes the label object on every call: with received, shed and
 * analysed counted for each request, that was per-request work on the listener thread.
 */
export interface HotCounter<L extends string> {
  inc(labels: Record<L, string>, value?: number): void;
  /** The values as prom-client reports them, pending increments included. */
  get(): ReturnType<Counter<L>['get']>;
}

function hotCounter<L extends string>(opts: {
  name: string;
  help: string;
  labelName: L;
  registers: Registry[];
}): HotCounter<L> {
  const { labelName } = opts;
  const pending = new Map<string, number>();
  const counter = new Counter<L>({
    name: opts.name,
    help: opts.help,
    labelNames: [labelName],
    registers: opts.registers,
    collect() {
      for (const [value, n] of pending) this.inc({ [labelName]: value } as Record<L, string>, n);
      pending.clear();
    },
  });
  return {
    inc(labels, value = 1) {
      const key = labels[labelName];
      pending.set(key, (pending.get(key) ?? 0) + value);
    },
    get: () => counter.get(),
  };
}

export function createCoreMetrics(registry = new Registry()): CoreMetrics {
  const registers = [registry];
  let readPoolUtilization: (() => number) | undefined;
  let readQueueDepth: (() => number) | undefined;
  let readYielding: (() => number) | undefined;
  // Process metrics (process_resident_memory_bytes, heap, event-loop lag, …) on the instance
  // registry: memory under load is part of what operators and the benchmark watch.
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    received: hotCounter({
      name: 'shadowtap_received_total',
      help: 'Exchanges received, by source',
      labelName: 'source',
      registers,
    }),
    analyzed: hotCounter({
      name: 'shadowtap_analyzed_total',
      help: 'Exchanges fully analysed, by source',
      labelName: 'source',
      registers,
    }),
    shed: hotCounter({
      name: 'shadowtap_shed_total',
      help: 'Exchanges dropped before analysis, by reason',
      labelName: 'reason',
      registers,
    }),
    rejected: hotCounter({
      name: 'shadowtap_rejected_total',
      help: 'Requests rejected as malformed, by reason',
      labelName: 'reason',
      registers,
    }),
    detections: hotCounter({
      name: 'shadowtap_detections_total',
      help: 'Detections made, by attack type',
      labelName: 'attack_type',
      registers,
    }),
    anomalies: hotCounter({
      name: 'shadowtap_anomalies_total',
      help: 'Decode limits and anomalies met, by code',
      labelName: 'code',
      registers,
    }),
    queueDepth: new Gauge({
      name: 'shadowtap_admission_queue_depth',
      help: 'Exchanges waiting for a worker',
      registers,
      collect() {
        if (readQueueDepth) this.set(readQueueDepth());
      },
    }),
    yielding: new Gauge({
      name: 'shadowtap_admission_yielding',
      help: '1 while detection runs on one thread fewer so that the saturated listener gets a core (admission.yieldToListener)',
      registers,
      collect() {
        if (readYielding) this.set(readYielding());
      },
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
    setQueueDepthSource(read) {
      readQueueDepth = read;
    },
    setYieldingSource(read) {
      readYielding = read;
    },
  };
}
