import type { CapturedExchange } from '../core/model.js';

/** Bytes of the body looked at: enough for form fields and the start of JSON, never a scan. */
const BODY_PEEK_BYTES = 2048;

// Raw and percent-encoded markers that benign traffic rarely carries and attacks usually do:
// quotes and angle brackets (encoded), traversal, template and JNDI lookups, SQL keywords
// after a quote, script sinks, metadata addresses. A hint for sampling, not a detector.
const TARGET_SIGNALS =
  /['<>`]|%2[27]|%3[cCeE]|%60|\.\.(?:[/\\]|%2[fF]|%5[cC])|%2[fF]etc%2[fF]|%2[eE]%2[eE]|\$\{|%24%7[bB]|\{\{|%7[bB]%7[bB]|\bunion\b|\bselect\b|\bsleep\(|javascript:|\/etc\/|169\.254\.|file:\/\//i;
const BODY_SIGNALS =
  /<script|<img|<svg|on\w+\s*=|javascript:|\.\.[/\\]|\$\{|\{\{|'\s*(?:or|and|union|;|--)|\bunion\s+select\b|\/etc\/passwd|169\.254\.|file:\/\/|%27|%3[cC]/i;

/**
 * Whether an exchange shows a cheap suspicious signal in its target, a few header values or
 * the first bytes of its body: O(small) regex tests on the event loop, used by admission to
 * keep such requests when it samples under overload.
 */
export function hasCheapSignal(exchange: CapturedExchange): boolean {
  if (TARGET_SIGNALS.test(exchange.target)) return true;
  for (const [, value] of exchange.headers) if (value.includes('${') || value.includes('{{')) return true;
  if (exchange.body.byteLength === 0) return false;
  const peek = Buffer.from(
    exchange.body.buffer,
    exchange.body.byteOffset,
    Math.min(exchange.body.byteLength, BODY_PEEK_BYTES),
  ).toString('latin1');
  return BODY_SIGNALS.test(peek);
}
