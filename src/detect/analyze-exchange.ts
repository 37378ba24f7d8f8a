import { performance } from 'node:perf_hooks';
import type { AnalysisConfig } from '../config/config.js';
import type { AnalysisResult, CapturedExchange, Detector, DetectContext, Finding } from '../core/model.js';
import { decodeRequest } from '../decode/decode-request.js';
import { DETECTORS } from './detector-registry.js';
import { isExcluded } from './exclusions.js';

/**
 * Decodes one exchange and runs every enabled detector over it, within the per-request
 * CPU budget. Pure apart from the clock: used by the worker pool and by `analyze`.
 */
export function analyzeExchange(
  exchange: CapturedExchange,
  config: AnalysisConfig,
  detectors: readonly Detector[] = DETECTORS,
): AnalysisResult {
  const start = performance.now();
  const deadline = start + config.limits.budgetMs;
  const request = decodeRequest(exchange, config.limits, deadline);
  const ctx: DetectContext = { sensitivity: config.sensitivity, request, deadline };
  const enabled = detectors.filter((d) => !config.disabledDetectors.includes(d.id));
  const findings: Finding[] = [];
  let budgetExceeded = false;

  const keep = (f: Finding): void => {
    if (!isExcluded(config.exclusions, exchange.host, request.path, f)) findings.push(f);
  };

  for (const detector of enabled) {
    if (!detector.inspectRequest) continue;
    for (const f of detector.inspectRequest(request, ctx)) keep(f);
  }
  outer: for (const point of request.points) {
    for (const detector of enabled) {
      // The budget is checked between detector calls; detectors also watch ctx.deadline
      // inside their own loops so that one pathological value cannot run away.
      if (performance.now() > deadline) {
        budgetExceeded = true;
        break outer;
      }
      if (!detector.inspectPoint) continue;
      for (const hit of detector.inspectPoint(point, ctx)) {
        keep({ ...hit, location: point.location, chain: point.chain });
      }
    }
  }
  const anomalies = request.anomalies.slice();
  if (budgetExceeded) {
    anomalies.push({ code: 'budget_exceeded', location: 'request', detail: `analysis cut after ${config.limits.budgetMs} ms` });
  }
  return {
    exchangeId: exchange.id,
    findings: dedupeFindings(findings),
    anomalies,
    durationMs: performance.now() - start,
    budgetExceeded,
  };
}

/** One finding per (rule, location): the same payload reached by two decodings reports once. */
function dedupeFindings(findings: Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  for (const f of findings) {
    const key = `${f.ruleId}\u0000${f.location}`;
    const prev = seen.get(key);
    if (!prev || f.confidence > prev.confidence) seen.set(key, f);
  }
  return [...seen.values()];
}
