import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import { hitCollector, isInfraHeader, type Rule } from './detect-kit.js';
import { classifyHost, parseHost, parseUrlLike, type AddressClass, type ParsedHost, type UrlLike } from './url-host.js';

/*
 * Server-side request forgery: a value that is (or contains) a URL or a host whose real
 * target — after canonicalising every notation a resolver accepts (see url-host.ts) — is
 * cloud metadata, loopback, a private or link-local network, or that uses a scheme only an
 * attacker wants a server to fetch (gopher, dict, file, ldap, tftp…). A URL to
 * https://example.com is none of these; the same host written as 0x5db8d822 is a signal.
 */

const R = {
  metadata: { id: 'ST-SSRF-001', attackType: 'ssrf', severity: 'critical' },
  internal: { id: 'ST-SSRF-002', attackType: 'ssrf', severity: 'high' },
  notation: { id: 'ST-SSRF-003', attackType: 'ssrf', severity: 'high' },
  scheme: { id: 'ST-SSRF-004', attackType: 'ssrf', severity: 'high' },
  authority: { id: 'ST-SSRF-005', attackType: 'ssrf', severity: 'high' },
  oob: { id: 'ST-SSRF-006', attackType: 'ssrf', severity: 'medium' },
} satisfies Record<string, Rule>;

/** Schemes a server-side fetcher should never be handed, with the confidence they carry. */
const DANGEROUS_SCHEMES: Readonly<Record<string, number>> = {
  gopher: 0.95,
  dict: 0.9,
  tftp: 0.85,
  local_file: 0.9,
  netdoc: 0.9,
  file: 0.7,
  ldap: 0.7,
  ldaps: 0.7,
  ldapi: 0.75,
  jar: 0.7,
  expect: 0.85,
  sftp: 0.5,
};

/** Out-of-band interaction services used to confirm blind SSRF (and blind injections). */
const OOB_DOMAIN =
  /(?:^|\.)(?:burpcollaborator\.net|oastify\.com|interact\.sh|interactsh\.com|oast\.(?:fun|me|pro|live|site|online)|dnslog\.(?:cn|link)|ceye\.io|requestbin\.(?:net|com)|canarytokens\.com|xss\.ht|bxss\.me|pingb\.in|dig\.pm|ngrok\.io|ngrok-free\.app)$/;

const CLASS_CONF: Readonly<Partial<Record<AddressClass, number>>> = {
  metadata: 0.95,
  loopback: 0.9,
  unspecified: 0.9,
  private: 0.65,
  link_local: 0.75,
  shared: 0.5,
  broadcast: 0.5,
};

const SCHEME_AT = /(?:^|[^a-z0-9+._-])([a-z][a-z0-9+._-]{1,24}):/gi;

function judgeUrl(u: UrlLike, add: ReturnType<typeof hitCollector>['add']): void {
  const schemeConf = DANGEROUS_SCHEMES[u.scheme];
  if (schemeConf !== undefined) add(R.scheme, schemeConf, u.raw, `${u.scheme}: URL handed to a server-side fetcher`);
  judgeHost(u, u.raw, 0, add);
  if (u.confusedAuthority)
    add(R.authority, 0.8, u.raw, 'authority with parser-differential userinfo (@ after space/#/@)');
  if (u.hostKind === 'ipv6' && !u.obfuscated) add(R.notation, 0.6, u.raw, 'IPv6 literal host');
}

function judgeHost(
  h: ParsedHost,
  fragment: string,
  penalty: number,
  add: ReturnType<typeof hitCollector>['add'],
): void {
  const { cls, via } = classifyHost(h);
  const conf = CLASS_CONF[cls];
  if (cls === 'metadata') add(R.metadata, conf! - penalty, fragment, `cloud metadata endpoint ${h.host}`);
  else if (conf !== undefined)
    add(R.internal, conf - penalty, fragment, `${cls.replace('_', '-')} target ${h.host}${via ? ` via ${via}` : ''}`);
  if (h.obfuscated) add(R.notation, 0.85 - penalty, fragment, `${h.notation ?? 'obfuscated'} host ${h.host}`);
  if (h.hostKind === 'name' && OOB_DOMAIN.test(h.host))
    add(R.oob, 0.8 - penalty, fragment, `out-of-band interaction domain ${h.host}`);
}

/** A whole value that is a bare host (`localhost/`, `127.0.0.1:8080`, `[::1]/x`). */
const BARE_HOST = /^(\[[0-9a-f:.%a-z]+\]|[^\s/:?#@[\]]+)(:\d{1,5})?([/?#]\S*)?$/i;

function inspectBare(v: string, add: ReturnType<typeof hitCollector>['add']): void {
  const m = BARE_HOST.exec(v);
  if (!m) return;
  const h = parseHost(m[1]!);
  if (!h) return;
  const hasTail = m[2] !== undefined || m[3] !== undefined;
  const bracketed = m[1]!.startsWith('[');
  // A bare number is not a host; a bare name needs a port or a path to read as one.
  if (h.hostKind === 'ipv4' && !(m[1]!.split('.').length === 4 && hasTail)) {
    if (!(h.ipv4 && classifyHost(h).cls === 'metadata' && m[1]!.split('.').length === 4)) return;
  }
  if (h.hostKind === 'name' && !hasTail) return;
  if (h.hostKind === 'ipv6' && !bracketed) return;
  const { cls } = classifyHost(h);
  // CIDR blocks and LAN addresses in settings forms are normal; only clear targets count.
  if (cls === 'private' || cls === 'shared' || cls === 'broadcast' || cls === 'public') return;
  judgeHost(h, v, 0.15, add);
}

/** SSRF detector. */
export const ssrfDetector: Detector = {
  id: 'ssrf',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const v = point.value;
    if (v.length < 4 || isInfraHeader(point)) return [];
    // Cheap pre-filter: a URL needs ':', a bare internal host a '/' or ':' too.
    if (!v.includes(':') && !v.includes('/')) return [];
    const c = hitCollector(ctx);
    const s = v.length > 16384 ? v.slice(0, 16384) : v;
    if (v.length <= 2048) inspectBare(s.trim(), c.add);
    if (s.includes(':')) {
      SCHEME_AT.lastIndex = 0;
      let m: RegExpExecArray | null;
      let n = 0;
      while ((m = SCHEME_AT.exec(s)) !== null && n++ < 32) {
        if (performance.now() > ctx.deadline) break;
        const start = m.index + m[0].length - m[1]!.length - 1;
        const u = parseUrlLike(s.slice(start, start + 2048));
        if (u) judgeUrl(u, c.add);
      }
    }
    return c.hits;
  },
};
