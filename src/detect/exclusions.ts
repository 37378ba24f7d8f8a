import type { AnalysisConfig } from '../config/config.js';
import type { Finding } from '../core/model.js';

type Exclusion = AnalysisConfig['exclusions'][number];

function matchesPattern(pattern: string | undefined, value: string): boolean {
  if (pattern === undefined) return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return value === pattern;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1).toLowerCase();
  const i = host.lastIndexOf(':');
  return (i >= 0 ? host.slice(0, i) : host).toLowerCase();
}

/**
 * True when an operator exclusion silences this finding. Every field of an exclusion that is
 * set must match (host exact, path prefix, location and rule id exact or `prefix*`).
 */
export function isExcluded(
  exclusions: readonly Exclusion[],
  host: string,
  path: string,
  finding: Pick<Finding, 'location' | 'ruleId'>,
): boolean {
  const bareHost = stripPort(host);
  return exclusions.some(
    (e) =>
      (e.host === undefined || stripPort(e.host) === bareHost) &&
      (e.pathPrefix === undefined || path.startsWith(e.pathPrefix)) &&
      matchesPattern(e.location, finding.location) &&
      matchesPattern(e.ruleId, finding.ruleId),
  );
}
