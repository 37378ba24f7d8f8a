import type { Detection } from '../gen/shadowtap/v1/detection.js';
import type { Filter } from '../gen/shadowtap/v1/detection_service.js';

/** A compiled Filter: sets built once per subscriber, not per detection. */
export type DetectionPredicate = (d: Detection) => boolean;

function hostOnly(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1).toLowerCase();
  const i = host.lastIndexOf(':');
  return (i > 0 ? host.slice(0, i) : host).toLowerCase();
}

/** Compiles a proto Filter; empty fields match everything. Hosts match with or without port. */
export function compileFilter(filter: Filter | undefined): DetectionPredicate {
  if (!filter) return () => true;
  const types = new Set(filter.attackTypes.map((t) => t.toLowerCase()));
  const hosts = new Set(filter.hosts.map((h) => h.toLowerCase()));
  const sources = new Set(filter.sources);
  const prefixes = filter.pathPrefixes;
  const minSeverity = filter.minSeverity;
  return (d) =>
    d.severity >= minSeverity &&
    (types.size === 0 || types.has(d.attackType)) &&
    (hosts.size === 0 || hosts.has(d.host.toLowerCase()) || hosts.has(hostOnly(d.host))) &&
    (sources.size === 0 || sources.has(d.source)) &&
    (prefixes.length === 0 || prefixes.some((p) => d.path.startsWith(p)));
}
