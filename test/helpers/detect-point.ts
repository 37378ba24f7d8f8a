import type { DecodedRequest, DetectContext, Detector, Hit, Point, Sensitivity } from '../../src/core/model.js';

/** A DetectContext for unit tests (no deadline pressure). */
export function detectCtx(sensitivity: Sensitivity = 'default', request: Partial<DecodedRequest> = {}): DetectContext {
  return {
    sensitivity,
    deadline: Number.POSITIVE_INFINITY,
    request: {
      method: 'GET',
      host: 'shop.example.com',
      path: '/',
      normalizedPath: '/',
      headers: [],
      points: [],
      anomalies: [],
      ...request,
    },
  };
}

export interface PointOptions {
  location?: string;
  kind?: Point['kind'];
  sensitivity?: Sensitivity;
}

/** Runs `detector.inspectPoint` on one value. */
export function inspectValue(detector: Detector, value: string, opts: PointOptions = {}): Hit[] {
  const point: Point = { location: opts.location ?? 'query.q', value, chain: ['url'], kind: opts.kind ?? 'value' };
  return detector.inspectPoint!(point, detectCtx(opts.sensitivity));
}

/** Rule ids a detector reports for one value. */
export function rulesFor(detector: Detector, value: string, opts: PointOptions = {}): string[] {
  return inspectValue(detector, value, opts).map((h) => h.ruleId);
}

/** A large adversarial value (1 MB unless told otherwise). */
export function hostile(unit: string, bytes = 1024 * 1024): string {
  return unit.repeat(Math.ceil(bytes / unit.length));
}
