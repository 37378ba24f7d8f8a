import type { AnalysisResult, CapturedExchange } from './model.js';

/** Why an exchange was not analysed. */
export type ShedReason = 'queue_full' | 'sampled_out' | 'pool_queue_full' | 'shutting_down' | 'worker_error';

export type SubmitOutcome = { accepted: true } | { accepted: false; reason: ShedReason };

export interface SubmitOptions {
  /** false: analyse only (e.g. an inline blocking decision); nothing is published. Default true. */
  publish?: boolean;
}

/**
 * The seam every ingest (shadow listener, ext_proc, replay) hands exchanges to.
 * `submit` never waits and never throws: the exchange is admitted or shed (and counted).
 */
export interface Pipeline {
  submit(exchange: CapturedExchange, options?: SubmitOptions): SubmitOutcome;
  /**
   * Admits the exchange and resolves with its analysis, or null when it was shed or the
   * timeout passed first (callers fail open). Used by ext_proc blocking mode.
   */
  submitAndWait(exchange: CapturedExchange, timeoutMs: number, options?: SubmitOptions): Promise<AnalysisResult | null>;
}
