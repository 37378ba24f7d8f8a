import { HTTP_TOKEN } from '../core/http-token.js';
import type { DecodedRequest, DetectContext, Detector, Finding } from '../core/model.js';
import { addFinding, type Rule } from './detect-kit.js';

/*
 * Protocol anomalies worth reporting, from the header list exactly as received (duplicates
 * and order kept) and the decode stage's anomalies: request smuggling signals (both
 * Content-Length and Transfer-Encoding, conflicting or malformed lengths, obfuscated
 * Transfer-Encoding), invalid or unusual methods, malformed header names, absurd header
 * counts, conflicting Host headers.
 */

const R = {
  clTe: { id: 'ST-PROTO-001', attackType: 'protocol', severity: 'high' },
  cl: { id: 'ST-PROTO-002', attackType: 'protocol', severity: 'high' },
  te: { id: 'ST-PROTO-003', attackType: 'protocol', severity: 'high' },
  method: { id: 'ST-PROTO-004', attackType: 'protocol', severity: 'medium' },
  headerName: { id: 'ST-PROTO-005', attackType: 'protocol', severity: 'medium' },
  headerCount: { id: 'ST-PROTO-006', attackType: 'protocol', severity: 'medium' },
  host: { id: 'ST-PROTO-007', attackType: 'protocol', severity: 'medium' },
  framing: { id: 'ST-PROTO-008', attackType: 'protocol', severity: 'medium' },
} satisfies Record<string, Rule>;

/** Header lines beyond which a request is abnormal (browsers send 10–25). */
export const MAX_NORMAL_HEADERS = 100;

const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'SEARCH',
  'REPORT',
  'MKACTIVITY',
  'CHECKOUT',
  'MERGE',
  'M-SEARCH',
  'NOTIFY',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'PURGE',
  'LINK',
  'UNLINK',
  'BIND',
  'REBIND',
  'UNBIND',
  'ACL',
  'MKCALENDAR',
  'QUERY',
  'VERSION-CONTROL',
  'BASELINE-CONTROL',
  'UPDATE',
  'LABEL',
  'MKWORKSPACE',
  'ORDERPATCH',
  'PRI',
]);

/** Protocol anomaly detector (request-level). */
export const protocolDetector: Detector = {
  id: 'protocol',
  inspectRequest(req: DecodedRequest, ctx: DetectContext): Finding[] {
    const out: Finding[] = [];
    const h = req.headers;
    const cls = h.filter(([n]) => n === 'content-length').map(([, v]) => v.trim());
    const tes = h.filter(([n]) => n === 'transfer-encoding').map(([, v]) => v);
    if (cls.length > 0 && tes.length > 0) {
      addFinding(
        out,
        ctx,
        R.clTe,
        0.85,
        `content-length: ${cls[0]}; transfer-encoding: ${tes[0]}`,
        'both Content-Length and Transfer-Encoding (CL.TE/TE.CL smuggling)',
        'header.transfer-encoding',
      );
    }
    const distinct = new Set(cls.flatMap((v) => v.split(',').map((x) => x.trim())));
    if (distinct.size > 1)
      addFinding(out, ctx, R.cl, 0.9, cls.join(' | '), 'conflicting Content-Length values', 'header.content-length');
    else if (cls.length > 1)
      addFinding(out, ctx, R.cl, 0.5, cls.join(' | '), 'duplicate Content-Length headers', 'header.content-length');
    for (const v of cls) {
      if (!/^\d{1,15}$/.test(v) && !/^\d{1,15}(?:\s*,\s*\d{1,15})+$/.test(v))
        addFinding(out, ctx, R.cl, 0.85, v, 'Content-Length that is not a number', 'header.content-length');
    }
    for (const v of tes) {
      const codings = v.split(',').map((x) => x.trim().toLowerCase());
      const clean =
        /^[a-z]+(?:\s*,\s*[a-z]+)*$/i.test(v) &&
        codings[codings.length - 1] === 'chunked' &&
        codings.every((x) => ['chunked', 'gzip', 'deflate', 'compress', 'br'].includes(x));
      if (!clean)
        addFinding(out, ctx, R.te, 0.85, v, 'obfuscated or invalid Transfer-Encoding', 'header.transfer-encoding');
    }
    if (tes.length > 1)
      addFinding(out, ctx, R.te, 0.8, tes.join(' | '), 'several Transfer-Encoding headers', 'header.transfer-encoding');
    for (const [n] of h) {
      if (n.startsWith(':')) continue;
      if (!HTTP_TOKEN.test(n)) {
        addFinding(
          out,
          ctx,
          R.headerName,
          0.8,
          n.slice(0, 80),
          'header name with characters outside the HTTP token set',
          `header.${n}`,
        );
        break;
      }
      if (/^(?:content[_-]length|transfer[_-]encoding)$/.test(n) && n.includes('_')) {
        addFinding(
          out,
          ctx,
          R.headerName,
          0.7,
          n,
          'framing header spelled with "_" (normalised differently by proxies)',
          `header.${n}`,
        );
      }
    }
    const m = req.method;
    if (!HTTP_TOKEN.test(m))
      addFinding(out, ctx, R.method, 0.9, m.slice(0, 60), 'method is not an HTTP token', 'method');
    else if (!KNOWN_METHODS.has(m))
      addFinding(
        out,
        ctx,
        R.method,
        m.toUpperCase() === m ? 0.6 : 0.7,
        m.slice(0, 60),
        `unknown method ${m.slice(0, 30)}`,
        'method',
      );
    else if (m === 'TRACE' || m === 'TRACK')
      addFinding(out, ctx, R.method, 0.6, m, 'TRACE method (cross-site tracing)', 'method');
    if (h.length > MAX_NORMAL_HEADERS)
      addFinding(
        out,
        ctx,
        R.headerCount,
        h.length > MAX_NORMAL_HEADERS * 2 ? 0.8 : 0.65,
        `${h.length} headers`,
        `${h.length} header lines > ${MAX_NORMAL_HEADERS}`,
        'headers',
      );
    const hosts = new Set(h.filter(([n]) => n === 'host').map(([, v]) => v.trim().toLowerCase()));
    if (hosts.size > 1)
      addFinding(out, ctx, R.host, 0.8, [...hosts].join(' | '), 'conflicting Host headers', 'header.host');
    for (const a of req.anomalies) {
      if (a.code === 'chunked_malformed')
        addFinding(out, ctx, R.framing, 0.7, a.detail, 'malformed chunked framing', a.location);
      else if (a.code === 'header_count')
        addFinding(out, ctx, R.headerCount, 0.7, a.detail, 'header count over the analysis limit', a.location);
    }
    return out;
  },
};
