import { workerData } from 'node:worker_threads';
import type { AnalysisConfig } from '../config/config.js';
import type { AnalysisResult } from '../core/model.js';
import { analyzeExchange } from '../detect/analyze-exchange.js';
import { decodeBatch } from './batch-codec.js';

/** Data every worker receives once at start (the validated, frozen analysis config). */
export interface DetectWorkerData {
  analysis: AnalysisConfig;
}

const { analysis } = workerData as DetectWorkerData;

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
