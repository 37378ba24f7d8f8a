import type { CoreMetrics } from '../core/metrics.js';
import type { AnalysisResult, CapturedExchange } from '../core/model.js';
import type { Detection } from '../gen/shadowtap/v1/detection.js';
import { buildDetection } from './build-detection.js';
import type { Redactor } from './redact.js';
import type { StreamHub } from './stream-hub.js';

/** Something that takes published detections (the upstream reporter implements it). */
export interface DetectionSink {
  /** Must not block or throw: the publish path runs on the event loop of ingest. */
  enqueue(detection: Detection): void;
}

export interface Publisher {
  /** Builds, redacts, sequences and fans out the detections of one analysed exchange. */
  publish(exchange: CapturedExchange, result: AnalysisResult): Detection[];
}

export function createPublisher(opts: {
  hub: StreamHub;
  redactor: Redactor;
  metrics: CoreMetrics;
  sinks: readonly DetectionSink[];
}): Publisher {
  const { hub, redactor, metrics, sinks } = opts;
  return {
    publish(exchange, result) {
      const out: Detection[] = [];
      for (const finding of result.findings) {
        const detection = hub.publish(buildDetection(exchange, finding, redactor));
        metrics.detections.inc({ attack_type: detection.attackType });
        for (const sink of sinks) sink.enqueue(detection);
        out.push(detection);
      }
      return out;
    },
  };
}
