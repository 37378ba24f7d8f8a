import { performance } from 'node:perf_hooks';
import type { AnalysisConfig } from '../config/config.js';
import type {
  AnalysisResult,
  CapturedExchange,
  Detector,
  DetectContext,
  Finding,
  Hit,
  ResponseContext,
} from '../core/model.js';
import { decodeRequest } from '../decode/decode-request.js';
import { correlateFindings } from './detect-response-correlate.js';
import { buildResponseView } from './detect-response-view.js';
import { DETECTORS } from './detector-registry.js';
import { isExcluded } from './exclusions.js';
import { createPointCache, MAX_CACHED_VALUE_CHARS, type PointCache, type PointSite } from './point-cache.js';

/** What one (detector set, config) pair needs per request, worked out once. */
interface Plan {
  /** Detectors not disabled by the config, in registry order. */
  enabled: readonly Detector[];
  /** The enabled ones with an `inspectPoint`, in registry order. */
  pointDetectors: readonly Detector[];
  cache: PointCache | undefined;
}

// One plan (and so one point cache) per (detector set, config): a worker has exactly one of
// each; tests that pass their own detectors or config get plans of their own. A resolved
// config is never mutated, so its detector list can be filtered once instead of per request.
const plans = new WeakMap<readonly Detector[], WeakMap<AnalysisConfig, Plan>>();

function planFor(detectors: readonly Detector[], config: AnalysisConfig): Plan {
  let byConfig = plans.get(detectors);
  if (!byConfig) plans.set(detectors, (byConfig = new WeakMap()));
  let plan = byConfig.get(config);
  if (!plan) {
    const enabled = detectors.filter((d) => !config.disabledDetectors.includes(d.id));
    plan = {
      enabled,
      pointDetectors: enabled.filter((d) => d.inspectPoint !== undefined),
      cache: config.pointCacheSize > 0 ? createPointCache(config.pointCacheSize) : undefined,
    };
    byConfig.set(config, plan);
  }
  return plan;
}

/**
 * Values up to this length read the clock once before their detectors and once after, not
 * between every two: see the loop in `analyzeExchange`.
 */
const CLOCK_EVERY_DETECTOR_CHARS = 256;

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
  const { enabled, pointDetectors, cache } = planFor(detectors, config);
  const findings: Finding[] = [];
  let budgetExceeded = false;

  for (const detector of enabled) {
    if (!detector.inspectRequest) continue;
    for (const f of detector.inspectRequest(request, ctx)) keep(findings, config, exchange.host, request.path, f);
  }
  outer: for (const point of request.points) {
    // Results depend on the value, where it sits and the request's host (RFI compares URLs
    // with it): the cache tells entries apart by all of them.
    const site: PointSite | undefined =
      cache && point.value.length <= MAX_CACHED_VALUE_CHARS
        ? { host: exchange.host, kind: point.kind, location: point.location }
        : undefined;
    const cached = site === undefined ? undefined : cache!.get(site, point.value);
    if (cached) {
      for (const hit of cached)
        keep(findings, config, exchange.host, request.path, { ...hit, location: point.location, chain: point.chain });
      continue;
    }
    // The budget is checked before a point's detectors and between them; detectors also
    // watch ctx.deadline inside their own loops so that one pathological value cannot run
    // away. On a short value the clock is read only before the first detector (and after the
    // last, below): a short value costs every detector little, so a value that starts in
    // budget overruns it by at most one pass of the detectors over CLOCK_EVERY_DETECTOR_CHARS
    // characters, a bounded amount; reading the clock ~17 times per point cost more than
    // most detectors on such values. Long values, whose detectors can take a while each,
    // keep the check between every two detectors.
    const everyDetector = point.value.length > CLOCK_EVERY_DETECTOR_CHARS;
    const hits: Hit[] = [];
    for (let i = 0; i < pointDetectors.length; i++) {
      if ((i === 0 || everyDetector) && performance.now() > deadline) {
        budgetExceeded = true;
        break outer;
      }
      for (const hit of pointDetectors[i]!.inspectPoint!(point, ctx)) hits.push(hit);
    }
    // Only a point every detector finished with is remembered (a cut one is not a verdict).
    if (site !== undefined && performance.now() <= deadline) cache!.set(site, point.value, hits);
    for (const hit of hits)
      keep(findings, config, exchange.host, request.path, { ...hit, location: point.location, chain: point.chain });
  }
  let reported = dedupeFindings(findings);
  if (exchange.response) {
    // ext_proc exchanges carry the response: response-side detectors look for leaks, and
    // every finding learns what the response says about the attack's success.
    // The response gets its own budget slice: a heavy request must not hide a leak.
    const responseDeadline = performance.now() + config.limits.budgetMs;
    const view = buildResponseView(exchange.response, config.response.maxTextBytes);
    const rctx: ResponseContext = {
      ...ctx,
      deadline: responseDeadline,
      response: view,
      nationalIds: config.response.nationalIds,
    };
    const leaks: Finding[] = [];
    for (const detector of enabled) {
      if (!detector.inspectResponse) continue;
      if (performance.now() > responseDeadline) {
        budgetExceeded = true;
        break;
      }
      for (const f of detector.inspectResponse(exchange, rctx)) {
        if (!isExcluded(config.exclusions, exchange.host, request.path, f)) leaks.push(f);
      }
    }
    const responseFindings = dedupeFindings(leaks);
    correlateFindings(reported, responseFindings, exchange.response, view);
    reported = reported.concat(responseFindings);
  }
  const anomalies = request.anomalies.slice();
  if (budgetExceeded) {
    anomalies.push({
      code: 'budget_exceeded',
      location: 'request',
      detail: `analysis cut after ${config.limits.budgetMs} ms`,
    });
  }
  return {
    exchangeId: exchange.id,
    findings: reported,
    anomalies,
    durationMs: performance.now() - start,
    budgetExceeded,
  };
}

/** Appends `f` to `findings` unless the config's exclusions cover it. */
function keep(findings: Finding[], config: AnalysisConfig, host: string, path: string, f: Finding): void {
  if (!isExcluded(config.exclusions, host, path, f)) findings.push(f);
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
