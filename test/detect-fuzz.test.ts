import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DetectContext, Detector, Point } from '../src/core/model.js';
import { codeInjectionDetector } from '../src/detect/detect-code-injection.js';
import { rceDetector } from '../src/detect/detect-rce.js';
import { sqliDetector } from '../src/detect/detect-sqli.js';
import { xssDetector } from '../src/detect/detect-xss.js';

const ctx: DetectContext = {
  sensitivity: 'high',
  deadline: Number.POSITIVE_INFINITY,
  request: { method: 'GET', host: 'h', path: '/', normalizedPath: '/', headers: [], points: [], anomalies: [] },
};

/** Strings built from the characters every grammar cares about, plus keywords. */
const hostile = fc
  .array(
    fc.oneof(
      fc.constantFrom(...`'"\`;|&$(){}[]<>=!#-/*\\%^?~@:,.+\n\r\t `.split('')),
      fc.constantFrom(
        'select',
        'union',
        'or',
        '1',
        'script',
        'on',
        'javascript:',
        'cat',
        '${IFS}',
        '%27',
        '&#x3c;',
        '/*!',
        '--',
        'a-z',
        'z-a',
        '\u00bc',
      ),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

describe('detectors never throw', () => {
  for (const d of [sqliDetector, xssDetector, rceDetector, codeInjectionDetector] as Detector[]) {
    it(`${d.id} on hostile strings`, () => {
      fc.assert(
        fc.property(hostile, (value) => {
          const point: Point = { location: 'query.q', value, chain: [], kind: 'value' };
          const hits = d.inspectPoint!(point, ctx);
          assert.ok(Array.isArray(hits));
          for (const h of hits) assert.ok(h.confidence >= 0 && h.confidence <= 1 && typeof h.ruleId === 'string');
        }),
        { numRuns: 1500, seed: 42 },
      );
    });
  }
});
