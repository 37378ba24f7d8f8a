import type { Config } from '../config/config.js';

/*
 * Secrets must not leave the process through detections, logs or sinks. Redaction works on
 * the location of a value (a header or key that carries credentials) and on the shape of
 * fragments (tokens that look like credentials wherever they appear).
 */

const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'x-csrf-token',
]);
const SECRET_KEY =
  /(?:^|[_.-])(pass(?:word|wd)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|session(?:id)?|auth|credentials?|otp|pin|ssn|card(?:number)?|cvv)$/i;

/** Patterns of credentials that are redacted wherever they appear in a fragment. */
const TOKEN_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[REDACTED:jwt]'],
  [/\b(?:Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '[REDACTED:auth]'],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, '[REDACTED:aws-key]'],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, '[REDACTED:github-token]'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, '[REDACTED:slack-token]'],
  [/\bsk_(?:live|test)_[A-Za-z0-9]{16,}\b/g, '[REDACTED:stripe-key]'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[REDACTED:private-key]'],
];

export type RedactionConfig = Config['redaction'];

/** Lower-cased sets built once from config. */
export interface Redactor {
  /** Redacts a fragment found at `location`, truncating it to maxFragmentChars. */
  fragment(location: string, fragment: string): string;
  /** True when values at this location are secrets as a whole. */
  isSecretLocation(location: string): boolean;
}

export function createRedactor(config: RedactionConfig): Redactor {
  const headers = new Set([...SECRET_HEADERS, ...config.headers.map((h) => h.toLowerCase())]);
  const params = new Set(config.params.map((p) => p.toLowerCase()));
  const truncate = (s: string): string =>
    s.length > config.maxFragmentChars
      ? `${s.slice(0, config.maxFragmentChars)}…[${s.length - config.maxFragmentChars} more]`
      : s;

  const isSecretLocation = (location: string): boolean => {
    const [root, ...rest] = location.split('.');
    if (root === 'header') return headers.has(rest.join('.').toLowerCase());
    if (root === 'cookie') return true;
    const last = (
      location
        .split(/[.[\]]/)
        .filter(Boolean)
        .pop() ?? ''
    ).toLowerCase();
    return params.has(last) || SECRET_KEY.test(last);
  };

  return {
    isSecretLocation,
    fragment(location, fragment) {
      if (config.revealSecrets) return truncate(fragment);
      if (isSecretLocation(location)) return `[REDACTED:${fragment.length} chars]`;
      let out = fragment;
      for (const [re, replacement] of TOKEN_PATTERNS) out = out.replace(re, replacement);
      return truncate(out);
    },
  };
}
