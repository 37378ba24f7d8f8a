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
  /** Exchanges waiting for a worker (per-request work when it was set on every submit). */
  queueDepth: ScrapedGauge;
  /** 1 while admission yields a detection thread to the listener. */
  yielding: ScrapedGauge;
  /**
   * Piscina computes its utilisation from run-time histograms (mean, stddev, percentiles):
   * called per batch it was ~8 % of the listener thread's CPU under load (perf).
   */
  poolUtilization: ScrapedGauge;
  analysisSeconds: Histogram;
}

/** A gauge read from its source only when scraped: nothing is paid on the hot path. */
export interface ScrapedGauge {
  setSource(read: () => number): void;
}

function scrapedGauge(opts: { name: string; help: string; registers: Registry[] }): ScrapedGauge {
  let read: (() => number) | undefined;
  new Gauge({
    ...opts,
    collect() {
      if (read) this.set(read());
    },
  });
  return {
    setSource(source) {
      read = source;
    },
  };
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
    queueDepth: scrapedGauge({
      name: 'shadowtap_admission_queue_depth',
      help: 'Exchanges waiting for a worker',
      registers,
    }),
    yielding: scrapedGauge({
      name: 'shadowtap_admission_yielding',
      help: '1 while detection runs on one thread fewer so that the saturated listener gets a core (admission.yieldToListener)',
      registers,
    }),
    poolUtilization: scrapedGauge({
      name: 'shadowtap_pool_utilization',
      help: 'Worker pool utilisation (0..1)',
      registers,
    }),
    analysisSeconds: new Histogram({
      name: 'shadowtap_analysis_seconds',
      help: 'Decode + detect time per exchange, in the worker',
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
  };
}
