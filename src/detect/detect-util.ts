import type { Hit, Sensitivity, SeverityName } from '../core/model.js';

/** A rule of the grammar detectors (SQLi, XSS, RCE, code injection): stable id, severity, why. */
export interface GrammarRule {
  id: string;
  severity: SeverityName;
  reason: string;
}

/** A rule matched over [from, to) of the analysed text, scored before sensitivity filtering. */
export interface RuleCandidate {
  rule: GrammarRule;
  confidence: number;
  from: number;
  to: number;
}

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
    if (name === 'user-agent' || name === 'referer') return 0.05;
    if (name === 'accept-language') return 0.1;
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

/**
 * Offsets covered by markdown code in a value that *is* markdown: fenced blocks (```…```) and,
 * when the value is prose around them, inline code spans. Renderers show code as text, so hits
 * inside are weaker evidence. A bare `` `id` `` (no prose around) is not treated as markdown.
 */
export function markdownCodeRanges(value: string): Array<[number, number]> {
  if (!value.includes('`')) return [];
  const out: Array<[number, number]> = [];
  const fenced = value.includes('```');
  for (const m of value.matchAll(/```[\s\S]*?(?:```|$)|`[^`\n]+`/g)) {
    if (m[0].startsWith('```') && !fenced) continue;
    out.push([m.index, m.index + m[0].length]);
  }
  if (out.length === 0) return out;
  // Inline spans only count inside prose: at least four words outside code.
  let outside = '';
  let last = 0;
  for (const [a, b] of out) {
    outside += value.slice(last, a) + ' ';
    last = b;
  }
  outside += value.slice(last);
  const prose = (outside.match(/\p{L}{2,}/gu) ?? []).length >= 4;
  return out.filter(([a, b]) => prose || value.startsWith('```', a) || b - a > 200);
}

/** Lowers the confidence of hits whose match starts inside markdown code. */
export function discountMarkdownCode<T extends { from: number; confidence: number }>(
  value: string,
  candidates: T[],
  discount = 0.4,
): T[] {
  const ranges = markdownCodeRanges(value);
  if (ranges.length === 0) return candidates;
  for (const c of candidates) if (ranges.some(([a, b]) => c.from >= a && c.from < b)) c.confidence -= discount;
  return candidates;
}
