import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Config } from '../../config/config.js';
import { ERR_CONFIG_INVALID, ERR_SINK_CONFIG } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { Detection } from '../../gen/shadowtap/v1/detection.js';
import { createBatcher } from './batcher.js';
import { openDiskSpool, type DiskSpool } from './disk-spool.js';
import { createReporterMetrics } from './reporter-metrics.js';
import { createHttpSink } from './sink-http.js';
import { createSinkLane, type SinkLane } from './sink-lane.js';
import { createSyslogSink } from './sink-syslog.js';
import type { DetectionJson, Sink, SinkConfig } from './sink.js';

export type ReporterConfig = Config['reporter'];

/** Delivers detections to the configured upstream sinks, at least once, without ever blocking. */
export interface Reporter {
  /** O(1); never blocks, never throws. Detections arrive already redacted. */
  enqueue(d: Detection): void;
  /**
   * Seals the open batch and resolves once every detection enqueued before the call is
   * delivered, written to the spool (synced, with fsync 'always') or dropped and counted.
   */
  flush(): Promise<void>;
  /** Stops accepting, lets deliveries finish until the timeout, then spools what is left. */
  close(timeoutMs: number): Promise<void>;
}

export interface ReporterOptions {
  config: ReporterConfig;
  logger: Logger;
  registry: Registry;
  /** Builds a sink from its config; tests swap in their own. */
  createSink?: (config: SinkConfig) => Sink;
}

function defaultSink(config: SinkConfig): Sink {
  return config.type === 'http' ? createHttpSink(config) : createSyslogSink(config);
}

/**
 * Opens one spool per sink (`<spool.dir>/<sink name>/`, recovering what a previous run left)
 * and starts delivering: whatever was spooled is replayed before new detections.
 */
export async function createReporter(opts: ReporterOptions): Promise<Reporter> {
  const { config, registry } = opts;
  const logger = opts.logger.child({ component: 'reporter' });
  const names = config.sinks.map((s) => s.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw ERR_CONFIG_INVALID(`  - reporter.sinks: sink name "${duplicate}" is used twice`);

  const metrics = createReporterMetrics(registry);
  const makeSink = opts.createSink ?? defaultSink;
  const sinks = config.sinks.map((c) => ({ config: c, sink: makeSink(c) }));
  const spools: DiskSpool[] = [];
  try {
    for (const { config: c } of sinks) {
      const dir = join(config.spool.dir, c.name);
      spools.push(
        await openDiskSpool({
          dir,
          maxBytes: config.spool.maxBytes,
          segmentBytes: config.spool.segmentBytes,
          fsync: config.spool.fsync,
          fsyncIntervalMs: config.spool.fsyncIntervalMs,
          whenFull: config.spool.whenFull,
          logger: logger.child({ sink: c.name }),
        }).catch((err: unknown) => {
          throw ERR_SINK_CONFIG(c.name, `cannot open spool ${dir}: ${(err as Error).message}`);
        }),
      );
    }
  } catch (err) {
    await Promise.all([...spools.map((s) => s.close()), ...sinks.map((s) => s.sink.close())]);
    throw err;
  }

  const lanes: SinkLane[] = sinks.map(({ config: c, sink }, i) => {
    const spool = spools[i]!;
    if (spool.records > 0) {
      logger.info({ sink: c.name, records: spool.records, detections: spool.detections }, 'replaying spool');
    }
    return createSinkLane({
      sink,
      config: c,
      spool,
      maxBuffered: config.maxBuffered,
      replayBatchesPerSecond: config.spool.replayBatchesPerSecond,
      metrics,
      logger,
    });
  });

  const batcher = createBatcher({
    batchSize: config.batchSize,
    flushIntervalMs: config.flushIntervalMs,
    onBatch: (batch, counter) => {
      for (const lane of lanes) lane.push(batch, counter);
    },
  });
  let closed = false;

  return {
    enqueue(d) {
      if (lanes.length === 0) return;
      metrics.enqueued.inc();
      if (closed) {
        for (const lane of lanes) metrics.droppedDetections.inc({ sink: lane.name, reason: 'closed' });
        return;
      }
      try {
        batcher.add(Detection.toJSON(d) as DetectionJson);
      } catch (err) {
        // Never reached with a well-formed Detection; the publish path must not see a throw anyway.
        for (const lane of lanes) metrics.droppedDetections.inc({ sink: lane.name, reason: 'invalid' });
        logger.error({ err }, 'detection cannot be serialised; dropped');
      }
    },
    async flush() {
      if (closed) return;
      const counter = batcher.seal();
      await Promise.all(lanes.map((l) => l.settled(counter)));
    },
    async close(timeoutMs) {
      if (closed) return;
      closed = true;
      batcher.stop();
      batcher.seal();
      const deadline = Date.now() + timeoutMs;
      await Promise.all(lanes.map((l) => l.close(deadline)));
      logger.info('reporter closed');
    },
  };
}
