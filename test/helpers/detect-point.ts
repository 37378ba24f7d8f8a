import assert from 'node:assert/strict';
import { it } from 'node:test';
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
  /** Decoding chain of the point (default ['url']). */
  chain?: string[];
}

/** Runs `detector.inspectPoint` on one value. */
export function inspectValue(detector: Detector, value: string, opts: PointOptions = {}): Hit[] {
  const point: Point = {
    location: opts.location ?? 'query.q',
    value,
    chain: opts.chain ?? ['url'],
    kind: opts.kind ?? 'value',
  };
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

/**
 * The table tests detector suites share: every attack is flagged (by `rule` when one is
 * named), only as `attackType`, with a confidence in (0, 1] and a fragment; every benign value
 * gets no hit at all.
 */
export function itFlagsAndSpares(opts: {
  attackType: string;
  inspect: (value: string) => Hit[];
  attacks: ReadonlyArray<readonly [payload: string, rule?: string]>;
  benign: readonly string[];
}): void {
  for (const [payload, rule] of opts.attacks) {
    it(`flags ${JSON.stringify(payload)}`, () => {
      const hits = opts.inspect(payload);
      assert.ok(hits.length > 0, 'no hit');
      if (rule) {
        assert.ok(
          hits.some((h) => h.ruleId === rule),
          `rules: ${hits.map((h) => h.ruleId).join(',')}`,
        );
      }
      for (const h of hits) {
        assert.equal(h.attackType, opts.attackType);
        assert.ok(h.confidence > 0 && h.confidence <= 1, `confidence ${h.confidence}`);
        assert.ok(h.fragment.length > 0, 'empty fragment');
      }
    });
  }
  for (const text of opts.benign) {
    it(`does not flag ${JSON.stringify(text)}`, () => {
      assert.deepEqual(
        opts.inspect(text).map((h) => `${h.ruleId} ${h.fragment}`),
        [],
      );
    });
  }
}
