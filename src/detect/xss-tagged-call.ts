import type { GrammarRule, RuleCandidate } from './detect-util.js';

/**
 * A function called without parentheses through a tagged template on `Function.prototype.call`
 * or `apply` (CRS 941400): `[].sort.call`${alert}1337``, `Reflect.apply.call`${navigation.navigate}…``.
 * A tagged template calls its tag, so `x.call`…`` invokes `x` with `this` and arguments taken
 * from the template's parts; payloads use it where `(` is filtered (PortSwigger's XSS cheat
 * sheet, "calling functions without parentheses"). The XSS detector already reports the form
 * that names a sink in a `${…}` part; this covers the value that *is* such a call whatever the
 * template holds (`Reflect.sort.call```, a probe for whether the construct survives), which
 * prose and markdown cannot produce: a member chain, `.call`/`.apply`, a template right after,
 * and nothing else in the value.
 *
 * Rule id: ST-XSS-005 (JavaScript injection).
 */

export const TAGGED_CALL_RULE = {
  id: 'ST-XSS-005',
  severity: 'high',
  reason: 'function invoked without parentheses (tagged template on .call/.apply)',
} as const satisfies GrammarRule;

const TAGGED_CALL =
  /^\s*(?:[A-Za-z_$][\w$]*|\[\s*\])(?:\s*\.\s*[A-Za-z_$][\w$]*)*\s*\.\s*(?:call|apply)\s*`[^`]{0,200}`\s*;?\s*$/;

/** The whole value as a tagged-template call, if it is one. */
export function taggedTemplateCall(value: string): RuleCandidate[] {
  if (!value.includes('`')) return [];
  return TAGGED_CALL.test(value) ? [{ rule: TAGGED_CALL_RULE, confidence: 0.7, from: 0, to: value.length }] : [];
}
