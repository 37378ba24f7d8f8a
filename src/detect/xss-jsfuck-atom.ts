import type { GrammarRule, RuleCandidate } from './detect-util.js';

/**
 * A value written entirely in JSFuck (CRS 941360): JavaScript from the six characters
 * `[ ] ( ) ! +`, where `![]` is `false`, `!![]` is `true`, `+[]` is `0`, `+!![]` is `1`, and longer
 * runs spell strings and calls. The XSS detector reports JSFuck runs of 12 characters or more
 * anywhere in a value; this covers the short atoms sent as the whole value (`+!![]`, `![]+[]`),
 * which probe whether the alphabet survives filtering before a full payload is sent. Text uses
 * brackets and bangs, but a value made of nothing else that negates or numifies an array
 * (`![`, `+[`) is no prose, list or markup. A form decoder turns `+` into a space, so spaces
 * count as part of the alphabet.
 *
 * Rule id: ST-XSS-005 (JavaScript injection).
 */

export const JSFUCK_ATOM_RULE = {
  id: 'ST-XSS-005',
  severity: 'high',
  reason: 'JSFuck-encoded JavaScript (the value is made of []()!+ only)',
} as const satisfies GrammarRule;

const ALPHABET_ONLY = /^[\s[\]()!+]{4,}$/;
/** An array negated or turned into a number: `![]`, `+[]`, `! []`. */
const ARRAY_OPERATOR = /[!+]\s*\[\s*\]/;

/** The whole value as JSFuck, if it is. */
export function jsfuckAtom(value: string): RuleCandidate[] {
  if (!ALPHABET_ONLY.test(value)) return [];
  const core = value.trim();
  if (core.length < 4 || !core.includes('!') || !ARRAY_OPERATOR.test(core)) return [];
  return [{ rule: JSFUCK_ATOM_RULE, confidence: 0.65, from: 0, to: value.length }];
}
