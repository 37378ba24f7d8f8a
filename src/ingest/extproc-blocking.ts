import type { Config } from '../config/config.js';
import { SEVERITY_RANK, type AnalysisResult, type Finding } from '../core/model.js';
import type { ProcessingResponse } from './extproc-protos.js';

/** Header carrying the request id on a blocked response (also in the body). */
export const REQUEST_ID_HEADER = 'x-shadowtap-request-id';

/** Where and how blocking mode acts (extProc.blocking). */
export interface BlockingPolicy {
  /** True when blocking is enabled and this host/path is in scope. */
  applies(host: string, path: string): boolean;
  /** The finding that justifies a block (the most severe ≥ minSeverity), if any. */
  verdict(result: AnalysisResult): Finding | undefined;
  /** The immediate_response that ends the request at Envoy. */
  immediateResponse(requestId: string, finding: Finding): ProcessingResponse;
}

/** Host without port, lower-cased: `Shop.Example.com:8443` → `shop.example.com`. */
function bareHost(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export function createBlockingPolicy(config: Config['extProc']['blocking']): BlockingPolicy {
  const hosts = new Set(config.hosts.map(bareHost));
  const minRank = SEVERITY_RANK[config.minSeverity];
  return {
    applies(host, path) {
      if (!config.enabled) return false;
      if (hosts.size > 0 && !hosts.has(bareHost(host))) return false;
      return config.pathPrefixes.length === 0 || config.pathPrefixes.some((p) => path.startsWith(p));
    },
    verdict(result) {
      let worst: Finding | undefined;
      for (const f of result.findings) {
        // Response-side findings cannot exist before the response; a request that merely
        // carries leak-looking text is not an attack to block.
        if (f.location.startsWith('response.')) continue;
        if (SEVERITY_RANK[f.severity] < minRank) continue;
        if (!worst || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst.severity]) worst = f;
      }
      return worst;
    },
    immediateResponse(requestId, finding) {
      return {
        immediate_response: {
          status: { code: config.status },
          headers: {
            set_headers: [
              {
                header: { key: REQUEST_ID_HEADER, raw_value: Buffer.from(requestId, 'latin1') },
                append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
              },
              {
                header: { key: 'content-type', raw_value: Buffer.from('text/plain; charset=utf-8') },
                append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
              },
            ],
          },
          body: Buffer.from(`Request blocked. Reference: ${requestId}\n`),
          // Shows in Envoy's access log (%RESPONSE_CODE_DETAILS%); the rule, never the payload.
          details: `shadowtap_blocked_${finding.ruleId}`,
        },
      };
    },
  };
}
