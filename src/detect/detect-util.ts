import type { Hit, Sensitivity } from '../core/model.js';

/**
 * Minimum confidence a hit needs to be reported at each sensitivity. Detectors score every
 * candidate; the sensitivity setting (like CRS paranoia levels) only moves this bar, so the
 * same grammar serves all three levels.
 */
export const CONFIDENCE_FLOOR: Readonly<Record<Sensitivity, number>> = Object.freeze({
  low: 0.8,
  default: 0.6,
  high: 0.4,
});

/**
 * Extra confidence a hit needs in locations that carry free text or opaque blobs by nature
 * (browser headers, cookies): attacks there are real but rarer, prose and tokens are common.
 */
export function locationPenalty(location: string): number {
  if (location.startsWith('header.')) {
    const name = location.slice(7);
    if (name === 'user-agent' || name === 'referer' || name === 'accept-language') return 0.1;
    if (name === 'accept' || name === 'accept-encoding' || name === 'content-type' || name === 'cache-control') {
      return 0.15;
    }
    return 0.05;
  }
  if (location.startsWith('cookie.')) return 0.05;
  return 0;
}

/** Keeps the hits that clear the bar for this sensitivity and location, best first, one per rule. */
export function selectHits(hits: Hit[], sensitivity: Sensitivity, location: string): Hit[] {
  const floor = CONFIDENCE_FLOOR[sensitivity] + locationPenalty(location);
  const best = new Map<string, Hit>();
  for (const h of hits) {
    if (h.confidence < floor) continue;
    const prev = best.get(h.ruleId);
    if (!prev || h.confidence > prev.confidence) best.set(h.ruleId, h);
  }
  return [...best.values()].sort((a, b) => b.confidence - a.confidence);
}
