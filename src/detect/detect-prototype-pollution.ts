import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import { hitCollector, type Rule } from './detect-kit.js';
import { unicodeEscapeDecode } from './normalize.js';

/*
 * Prototype pollution: a key path that reaches `Object.prototype` when a server deep-merges
 * or unflattens request data — `__proto__`, or `constructor` followed by `prototype`. Keys
 * are judged from key points and from the location path (`query.a.__proto__.x`,
 * `body.json.constructor.prototype.isAdmin`); a JSON object with a plain `constructor` key
 * (a normal API field) is not reported. Values holding key syntax (`__proto__[x]=`, a JSON
 * string with `"__proto__":`) are reported lower.
 */

const R = {
  proto: { id: 'ST-PP-001', attackType: 'prototype_pollution', severity: 'high' },
  ctor: { id: 'ST-PP-002', attackType: 'prototype_pollution', severity: 'high' },
  inValue: { id: 'ST-PP-003', attackType: 'prototype_pollution', severity: 'medium' },
} satisfies Record<string, Rule>;

const PROTO_SEG = /(?:^|[.[\]'"])\s*__proto__\s*(?:$|[.[\]'"])/;
const CTOR_PROTO = /(?:^|[.[\]'"])constructor\s*['"]?\s*(?:\]\s*\[|\]?\s*\.|\[)\s*['"]?\s*prototype\b/;

/** Prototype pollution detector. */
export const prototypePollutionDetector: Detector = {
  id: 'prototype_pollution',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const c = hitCollector(ctx);
    const loc = point.location;
    const v = point.value;
    // Cheap pre-filter: both gadgets need "proto" somewhere (possibly escaped).
    if (!/proto|\\u00|\\x/i.test(loc) && !/proto|\\u00|\\x/i.test(v)) return [];
    const keyText = point.kind === 'key' ? unicodeEscapeDecode(v) : '';
    const path = unicodeEscapeDecode(loc);
    if (PROTO_SEG.test(path) || PROTO_SEG.test(keyText) || keyText === '__proto__') {
      c.add(R.proto, 0.95, point.kind === 'key' ? keyText : loc, '__proto__ in a key path');
    }
    if (CTOR_PROTO.test(path) || CTOR_PROTO.test(keyText)) {
      c.add(R.ctor, 0.9, point.kind === 'key' ? keyText : loc, 'constructor.prototype in a key path');
    }
    if (point.kind === 'value' && v.length < 65536) {
      const s = unicodeEscapeDecode(v);
      const m =
        /__proto__\s*(?:\[|\.\s*[A-Za-z_$]|['"]\s*:)|\[\s*['"]?__proto__['"]?\s*\]|["']__proto__["']\s*:|constructor\s*(?:['"]?\s*\]\s*)?(?:\[\s*['"]?prototype|\.prototype\s*(?:\[|\.\s*[A-Za-z_$]+\s*=))/.exec(
          s,
        );
      if (m)
        c.add(
          R.inValue,
          /^\s*[{[]|=/.test(s) ? 0.8 : 0.6,
          s.slice(Math.max(0, m.index - 10), m.index + 60),
          'prototype pollution key syntax inside a value',
        );
    }
    return c.hits;
  },
};
