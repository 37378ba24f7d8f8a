import type { Detector } from '../core/model.js';

/** Placeholder replaced by the grammar-based SQLi detector (issue 4). */
export const sqliDetector: Detector = {
  id: 'sqli',
  inspectPoint(point) {
    return /'\s*or\s+1\s*=\s*1/i.test(point.value)
      ? [{ attackType: 'sqli', ruleId: 'ST-SQLI-000', severity: 'high', confidence: 0.5, fragment: point.value, reason: 'tautology' }]
      : [];
  },
};
