import type { CapturedResponse, Finding, ResponseCorrelation, ResponseView } from '../core/model.js';

/*
 * Request findings meet the response here: did the attack get through? Evidence, strongest
 * first: a leak that matches the attack class (database error after SQLi, file content after
 * traversal), any stack trace, a 5xx, the payload reflected into HTML. A 4xx or a
 * shadowtap block is a refusal. Otherwise a 2xx/3xx is reported as "no evidence".
 */

/** Leak classes that confirm each request attack class. */
const CONFIRMS: Readonly<Record<string, readonly string[]>> = {
  sqli: ['leak_sql_error'],
  nosqli: ['leak_sql_error'],
  path_traversal: ['leak_file_content', 'leak_directory_listing'],
  lfi: ['leak_file_content', 'leak_directory_listing'],
  rce: ['leak_file_content'],
  ssrf: ['leak_secret', 'leak_file_content'],
  xxe: ['leak_file_content'],
};

function refusal(status: number): string | undefined {
  if (status === 401 || status === 403) return `HTTP ${status}: refused`;
  if (status === 404) return 'HTTP 404: not found';
  if (status >= 400 && status < 500) return `HTTP ${status}: rejected as invalid`;
  return undefined;
}

function forRequestFinding(
  f: Finding,
  response: CapturedResponse,
  view: ResponseView,
  leaks: readonly Finding[],
): ResponseCorrelation {
  const status = response.status;
  if (response.origin === 'shadowtap')
    return { suggestsSuccess: false, reason: `blocked by shadowtap (HTTP ${status})` };
  const confirming = leaks.find((l) => CONFIRMS[f.attackType]?.includes(l.attackType));
  if (confirming)
    return {
      suggestsSuccess: true,
      reason: `HTTP ${status} with ${confirming.reason.replace(/ in the response$/, '')}`,
    };
  const trace = leaks.find((l) => l.attackType === 'leak_stack_trace' || l.attackType === 'leak_sql_error');
  if (trace)
    return { suggestsSuccess: true, reason: `HTTP ${status} with ${trace.reason.replace(/ in the response$/, '')}` };
  if (status >= 500) return { suggestsSuccess: true, reason: `HTTP ${status} after the injection` };
  const refused = refusal(status);
  if (refused) return { suggestsSuccess: false, reason: refused };
  if (
    f.attackType === 'xss' &&
    status < 300 &&
    view.contentType.includes('html') &&
    f.fragment.length >= 6 &&
    view.text.includes(f.fragment)
  ) {
    return { suggestsSuccess: true, reason: `HTTP ${status}: payload reflected unencoded in HTML` };
  }
  return { suggestsSuccess: false, reason: `HTTP ${status}, no evidence of success in the response` };
}

/**
 * Sets `correlation` on every finding of an exchange that has a response: request findings
 * by the rules above, response findings (leaks) by whether the request carried an attack.
 */
export function correlateFindings(
  requestFindings: Finding[],
  responseFindings: Finding[],
  response: CapturedResponse,
  view: ResponseView,
): void {
  for (const f of requestFindings) f.correlation = forRequestFinding(f, response, view, responseFindings);
  const attack = requestFindings[0];
  for (const l of responseFindings) {
    l.correlation = attack
      ? { suggestsSuccess: true, reason: `HTTP ${response.status} leak after ${attack.attackType} in the request` }
      : { suggestsSuccess: false, reason: `HTTP ${response.status} leak, no attack detected in the request` };
  }
}
