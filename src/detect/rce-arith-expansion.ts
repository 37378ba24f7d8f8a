import type { GrammarRule, RuleCandidate } from './detect-util.js';

/**
 * Shell arithmetic expansion with command substitutions inside (CRS 932130). Before it
 * evaluates `$(( … ))`, the shell expands parameters and runs command substitutions in the
 * expression, so `$(( $(id -u) + 1 ))` runs `id`, and `$(($() 42))` (an empty substitution)
 * evaluates to `42`: a probe that proves the value reaches a shell, written so that the
 * detector's flat `$((…))` pattern, which stops at the first `)`, cannot see it. Only the
 * nested form is handled here; the RCE detector's structural pass covers the flat one, and a
 * substitution that names a binary is scored by its tokenizer.
 *
 * Rule id: ST-RCE-002 (command substitution).
 */

export const NESTED_ARITH_RULE = {
  id: 'ST-RCE-002',
  severity: 'critical',
  reason: 'command substitution inside a shell arithmetic expansion',
} as const satisfies GrammarRule;

/** `$((`, then bounded operands and `$( … )` substitutions (one level), at least one of them, then `))`. */
const NESTED_ARITH =
  /\$\(\((?:[^()\n]|\$\([^()\n]{0,40}\)){0,60}?\$\([^()\n]{0,40}\)(?:[^()\n]|\$\([^()\n]{0,40}\)){0,60}\)\)/;

/** The nested arithmetic expansion in `value`, if any. */
export function nestedArithmetic(value: string): RuleCandidate[] {
  if (!value.includes('$((')) return [];
  const m = NESTED_ARITH.exec(value);
  return m ? [{ rule: NESTED_ARITH_RULE, confidence: 0.6, from: m.index, to: m.index + m[0].length }] : [];
}
