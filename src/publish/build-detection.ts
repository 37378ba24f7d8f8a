import { randomUUID } from 'node:crypto';
import type { CapturedExchange, Finding, SeverityName, SourceName } from '../core/model.js';
import { SEVERITY_RANK } from '../core/model.js';
import { Severity, Source, type Detection } from '../gen/shadowtap/v1/detection.js';
import type { Redactor } from './redact.js';

const SOURCE: Readonly<Record<SourceName, Source>> = {
  mirror: Source.SOURCE_MIRROR,
  ext_proc: Source.SOURCE_EXT_PROC,
  replay: Source.SOURCE_REPLAY,
};

/** Proto severity from our severity name (the enum values share the SEVERITY_RANK order). */
export function toProtoSeverity(s: SeverityName): Severity {
  return SEVERITY_RANK[s] as Severity;
}

export function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q >= 0 ? target.slice(0, q) : target;
}

/**
 * Turns one finding into a Detection (sequence 0: the hub assigns it). The fragment is
 * redacted and truncated here, so nothing downstream ever sees the raw secret.
 */
export function buildDetection(exchange: CapturedExchange, finding: Finding, redactor: Redactor): Detection {
  return {
    sequence: 0,
    id: randomUUID(),
    timeUnixMs: exchange.receivedAt,
    requestId: exchange.requestId,
    source: SOURCE[exchange.source],
    clientIp: exchange.clientIp,
    host: exchange.host,
    method: exchange.method,
    path: pathOf(exchange.target),
    attackType: finding.attackType,
    ruleId: finding.ruleId,
    severity: toProtoSeverity(finding.severity),
    confidence: Math.round(finding.confidence * 1000) / 1000,
    location: finding.location,
    fragment: redactor.fragment(finding.location, finding.fragment),
    chain: finding.chain,
    reason: finding.reason,
    response: exchange.response
      ? {
          status: exchange.response.status,
          suggestsSuccess: finding.correlation?.suggestsSuccess ?? false,
          reason: finding.correlation?.reason ?? '',
        }
      : undefined,
    tags: finding.tags ?? [],
  };
}
