import type { Config } from '../../config/config.js';

/** One entry of `reporter.sinks` in the config. */
export type SinkConfig = Config['reporter']['sinks'][number];

/**
 * What the reporter hands to a sink: one batch of detections in their canonical proto-JSON
 * form (`Detection.toJSON`), with an id that stays the same across retries, spooling and
 * replay after a restart, so an upstream can de-duplicate (delivery is at-least-once).
 */
export interface ReportBatch {
  /** `<process-start-id>-<counter>`; ids of one process sort in creation order. */
  id: string;
  /** Wall-clock time the batch was sealed, Unix epoch ms. */
  createdUnixMs: number;
  /** Detections as `Detection.toJSON(d)` objects. */
  detections: DetectionJson[];
}

/** A detection in its canonical JSON form (`Detection.toJSON`). */
export type DetectionJson = Record<string, unknown>;

/** What a sink learnt from the upstream's answer. */
export interface SendResult {
  /**
   * Detections of an accepted batch that the upstream refused one by one (e.g. Elasticsearch
   * mapping errors); they are counted as dropped, the rest as delivered.
   */
  rejectedDetections?: number;
}

/** One upstream destination. `send` resolves only once the upstream has taken the batch. */
export interface Sink {
  readonly name: string;
  /**
   * Delivers one batch. Rejects with ST_ERR_SINK_FAILED (retry later) or ST_ERR_SINK_REJECTED
   * (the upstream refused this batch for good; retrying cannot help). `signal` aborts the
   * attempt (breaker timeout, shutdown).
   */
  send(batch: ReportBatch, signal?: AbortSignal): Promise<SendResult | void>;
  /** Releases connections; pending sends are aborted. */
  close(): Promise<void>;
}

/** The header that carries the batch id on HTTP sinks. */
export const BATCH_ID_HEADER = 'x-shadowtap-batch-id';

/** Turns a batch into an HTTP request body for one kind of upstream. */
export interface HttpFormat {
  readonly contentType: string;
  encode(batch: ReportBatch, ctx: FormatContext): string;
  /**
   * Reads a 2xx answer's body for per-item outcomes; throws ST_ERR_SINK_FAILED to retry the
   * batch. Formats whose upstream answers 2xx only on full success leave it out.
   */
  checkResponse?(body: string, batch: ReportBatch): SendResult | void;
}

export interface FormatContext {
  /** elastic-bulk index / splunk-hec index. */
  index?: string | undefined;
  /** This host's name (Splunk `host`). */
  hostname: string;
  /** Sink name, for error messages. */
  sink: string;
}

/** The detection as emitted: its proto-JSON fields plus the batch id, for de-duplication. */
export function withBatchId(d: DetectionJson, batchId: string): DetectionJson {
  return { ...d, batchId };
}
