import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import type { AnalysisConfig } from '../config/config.js';
import type { AnalysisResult } from '../core/model.js';
import { analyzeExchange } from '../detect/analyze-exchange.js';
import { warmUp } from '../detect/warm-up.js';
import { decodeBatch } from './batch-codec.js';

/** Data every worker receives once at start (the validated, frozen analysis config). */
export interface DetectWorkerData {
  analysis: AnalysisConfig;
  /** Niceness for this thread (admission.workerNice); 0 leaves it alone. */
  nice: number;
}

const { analysis, nice } = workerData as DetectWorkerData;

// Linux schedules threads individually: setpriority() on this thread's id lowers only the
// detection thread, so that under CPU contention the shadow listener (main thread) runs
// first. Raising niceness needs no privilege; where /proc/thread-self is missing (non-Linux)
// the thread keeps the listener's priority, which is only a loss of that preference.
if (nice > 0 && process.platform === 'linux') {
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), nice);
  } catch {
    // no /proc: equal priorities, as before
  }
}

// Pay the cold-start cost here, before the first task, not out of a real request's budget.
warmUp(analysis);

/**
 * Piscina task: analyse a batch of exchanges. A failure on one exchange never loses the
 * others: it becomes an 'analysis_error' anomaly on that exchange's result.
 */
export default function analyzeBatch(buf: ArrayBuffer): AnalysisResult[] {
  return decodeBatch(buf).map((exchange) => {
    try {
      return analyzeExchange(exchange, analysis);
    } catch (err) {
      return {
        exchangeId: exchange.id,
        findings: [],
        anomalies: [{ code: 'analysis_error', location: 'request', detail: String((err as Error)?.message ?? err) }],
        durationMs: 0,
        budgetExceeded: false,
      };
    }
  });
}
