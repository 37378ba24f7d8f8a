/*
 * A URL and host parser for attack detection: where a value's URL really points once every
 * host notation a resolver accepts is taken into account (inet_aton IPv4 forms — decimal,
 * octal, hex, 1–4 parts, overflow; IPv6 with embedded/mapped IPv4 and zone ids; Unicode
 * digits and full stops that IDNA folds; backslashes sprinkled in names), and which
 * notation was used (a non-canonical notation is itself a signal).
 */

export type HostKind = 'ipv4' | 'ipv6' | 'name';

/** What an address is, for SSRF purposes. */
export type AddressClass =
  'metadata' | 'loopback' | 'unspecified' | 'private' | 'link_local' | 'shared' | 'broadcast' | 'public';

export interface ParsedHost {
  /** Canonical host: dotted-quad IPv4, compressed-free IPv6 groups joined by ':', or lower-cased name. */
  host: string;
  hostKind: HostKind;
  /** IPv4 address (also the one embedded in a mapped/compat/NAT64/6to4 IPv6 address). */
  ipv4?: [number, number, number, number];
  /** True when the host was written in a notation other than its canonical one. */
  obfuscated: boolean;
  /** Why it counts as obfuscated (for the reason text). */
  notation?: string;
}

export interface UrlLike extends ParsedHost {
  scheme: string;
  userinfo?: string;
  port?: string;
  /** The text from the scheme to the end of the authority (what was parsed). */
  raw: string;
  /** Authority contains parser-differential tricks (several '@', spaces or '#' before '@'). */
  confusedAuthority: boolean;
}

const DOTS = /[\u3002\uff0e\uff61]/g;

/** Parses an inet_aton-style IPv4 host; undefined when it is not one. */
export function parseIpv4(text: string): { bytes: [number, number, number, number]; canonical: boolean } | undefined {
  const t = text.endsWith('.') ? text.slice(0, -1) : text;
  const parts = t.split('.');
  if (parts.length === 0 || parts.length > 4) return undefined;
  const nums: bigint[] = [];
  for (const p of parts) {
    if (/^0x[0-9a-f]*$/i.test(p)) nums.push(p.length === 2 ? 0n : BigInt(p));
    else if (/^0[0-7]+$/.test(p)) nums.push(BigInt(`0o${p.slice(1)}`));
    else if (/^(?:0|[1-9]\d*)$/.test(p)) nums.push(BigInt(p));
    else return undefined;
  }
  let value = 0n;
  for (let i = 0; i < nums.length - 1; i++) value = (value << 8n) | (nums[i]! & 0xffn);
  const lastBits = BigInt(8 * (5 - nums.length));
  value = (value << lastBits) | (nums[nums.length - 1]! & ((1n << lastBits) - 1n));
  const n = Number(value & 0xffffffffn);
  const bytes: [number, number, number, number] = [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  const canonical = parts.length === 4 && parts.every((p, i) => p === String(bytes[i]));
  return { bytes, canonical };
}

/** Parses an IPv6 literal (no brackets; zone id allowed) into 8 groups; undefined when invalid. */
export function parseIpv6(text: string): number[] | undefined {
  const t = text.replace(/%.*$/, '');
  if (!/^[0-9a-f:.]+$/i.test(t) || !t.includes(':')) return undefined;
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const side = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const groups = s.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (!v4 || g.split('.').length !== 4) return undefined;
        out.push((v4.bytes[0] << 8) | v4.bytes[1], (v4.bytes[2] << 8) | v4.bytes[3]);
      } else if (/^[0-9a-f]{1,4}$/i.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = side(halves[0]!);
  const tail = halves.length === 2 ? side(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const fill = 8 - head.length - tail.length;
  if (fill < 1) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

function v4FromGroups(a: number, b: number): [number, number, number, number] {
  return [a >> 8, a & 255, b >> 8, b & 255];
}

/** Canonicalises a host as a resolver would see it. */
export function parseHost(input: string): ParsedHost | undefined {
  let h = input.replace(DOTS, '.');
  const nfkc = h.normalize('NFKC');
  let notation: string | undefined = nfkc !== h || h !== input ? 'unicode look-alike characters' : undefined;
  h = nfkc.toLowerCase();
  if (h.includes('\\')) {
    h = h.replace(/\\/g, '');
    notation = 'backslash-split name';
  }
  if (h === '') return undefined;
  const bracketed = h.startsWith('[');
  const v6text = bracketed ? h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined) : h;
  if (bracketed || (v6text.match(/:/g)?.length ?? 0) >= 2) {
    const g = parseIpv6(v6text);
    if (!g) return bracketed ? { host: v6text, hostKind: 'name', obfuscated: false } : undefined;
    const host = g.map((x) => x.toString(16)).join(':');
    let ipv4: ParsedHost['ipv4'];
    let embedded: string | undefined;
    const zero = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
    if (zero(0, 5) && g[5] === 0xffff) embedded = 'IPv4-mapped IPv6';
    else if (zero(0, 6) && !(g[6] === 0 && (g[7] === 0 || g[7] === 1))) embedded = 'IPv4-compatible IPv6';
    else if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) embedded = 'NAT64 IPv6';
    if (embedded) ipv4 = v4FromGroups(g[6]!, g[7]!);
    else if (g[0] === 0x2002) {
      ipv4 = v4FromGroups(g[1]!, g[2]!);
      embedded = '6to4 IPv6';
    }
    const out: ParsedHost = { host, hostKind: 'ipv6', obfuscated: embedded !== undefined || notation !== undefined };
    if (ipv4) out.ipv4 = ipv4;
    if (embedded ?? notation) out.notation = embedded ?? notation!;
    return out;
  }
  const v4 = parseIpv4(h);
  if (v4) {
    const out: ParsedHost = {
      host: v4.bytes.join('.'),
      hostKind: 'ipv4',
      ipv4: v4.bytes,
      obfuscated: !v4.canonical || notation !== undefined,
    };
    if (!v4.canonical) out.notation = 'non-canonical IPv4 notation';
    else if (notation) out.notation = notation;
    return out;
  }
  if (!/^[a-z0-9_.-]+$/.test(h.replace(/\.$/, '')) && !/[^\x00-\x7f]/.test(h)) return undefined;
  const out: ParsedHost = { host: h.replace(/\.$/, ''), hostKind: 'name', obfuscated: notation !== undefined };
  if (notation) out.notation = notation;
  return out;
}

const SPECIAL = new Set(['http', 'https', 'ftp', 'ftps', 'ws', 'wss']);

/**
 * Parses `scheme:[//][userinfo@]host[:port]…` at the start of `text`. Special schemes accept
 * the forms browsers and curl accept (`http:host`, `http:/host`, `http:\\host`).
 */
export function parseUrlLike(text: string): UrlLike | undefined {
  const m = /^([a-z][a-z0-9+._-]{0,24}):(\/\/|\\\\|\/|)/i.exec(text);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (m[2] === '' || m[2] === '/') {
    if (!SPECIAL.has(scheme)) return undefined;
  }
  const rest = text.slice(m[0].length);
  // The authority as a lenient parser reads it: up to the first '/' or '?'; parser
  // differentials hide the real host after an '@' past spaces or '#'.
  const authEnd = rest.search(/[/?]/);
  const authRaw = authEnd >= 0 ? rest.slice(0, authEnd) : rest;
  const at = authRaw.lastIndexOf('@');
  const before = at >= 0 ? authRaw.slice(0, at) : '';
  const confusedAuthority = at >= 0 && (before.includes('@') || /[\s#&]/.test(before));
  let hostPort = at >= 0 ? authRaw.slice(at + 1) : authRaw;
  if (!confusedAuthority) hostPort = hostPort.replace(/[#\s"'<>].*$/s, '');
  else hostPort = hostPort.replace(/[\s"'<>].*$/s, '');
  let hostText = hostPort;
  let port: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    hostText = close >= 0 ? hostPort.slice(0, close + 1) : hostPort;
    const after = close >= 0 ? hostPort.slice(close + 1) : '';
    if (after.startsWith(':')) port = after.slice(1);
  } else if ((hostPort.match(/:/g)?.length ?? 0) === 1) {
    const c = hostPort.indexOf(':');
    hostText = hostPort.slice(0, c);
    port = hostPort.slice(c + 1);
  }
  // `file:///etc/passwd` has an empty authority: still a URL, with no host to judge.
  const parsed: ParsedHost | undefined =
    hostText === '' ? { host: '', hostKind: 'name', obfuscated: false } : parseHost(hostText);
  if (!parsed) return undefined;
  const out: UrlLike = {
    ...parsed,
    scheme,
    raw: text.slice(0, m[0].length + authRaw.length),
    confusedAuthority,
  };
  if (at >= 0) out.userinfo = before;
  if (port !== undefined) out.port = port;
  return out;
}

/** Host names that resolve to the machine itself or to container/cluster internals. */
const INTERNAL_NAME =
  /^(?:localhost|localhost\.localdomain|localhost4(?:\.localdomain4)?|localhost6(?:\.localdomain6)?|ip6-localhost|ipv6-localhost|ip6-loopback|loopback|host\.docker\.internal|gateway\.docker\.internal|kubernetes\.docker\.internal|host\.containers\.internal|kubernetes(?:\.default(?:\.svc(?:\.cluster\.local)?)?)?|localtest\.me|lvh\.me|vcap\.me|lacolhost\.com|127\.0\.0\.1\.nip\.io|spoofed\.burpcollaborator\.net)$|\.localhost$|\.svc\.cluster\.local$|^(?:[a-z0-9-]+\.)*(?:localtest\.me|lvh\.me|vcap\.me)$/;

/** Cloud instance metadata endpoints by name. */
const METADATA_NAME =
  /^(?:metadata|metadata\.google\.internal|metadata\.goog|metadata\.packet\.net|metadata\.platformequinix\.com|instance-data(?:\.ec2\.internal)?|metadata\.azure\.internal|metadata\.tencentyun\.com|metadata\.oraclecloud\.com|169-254-169-254\..*)$/;

/** Wildcard-DNS services that resolve a name with an embedded IP to that IP. */
const WILDCARD_DNS =
  /^(?:(.*)[.-])?((?:\d{1,3}[.-]){3}\d{1,3}|[0-9a-f]{8})\.(?:nip\.io|xip\.io|sslip\.io|xip\.name|nip\.direct|traefik\.me|localtest\.me|lvh\.me|local\.gd)$/;

/** What a parsed host targets, for SSRF. */
export function classifyHost(h: ParsedHost): { cls: AddressClass; via?: string } {
  if (h.ipv4) return { cls: classifyIpv4(h.ipv4) };
  if (h.hostKind === 'ipv6') return { cls: classifyIpv6(h.host) };
  const name = h.host;
  if (METADATA_NAME.test(name)) return { cls: 'metadata' };
  if (INTERNAL_NAME.test(name)) return { cls: 'loopback', via: 'internal host name' };
  const w = WILDCARD_DNS.exec(name);
  if (w) {
    const ip = w[2]!;
    const bytes: [number, number, number, number] = /^[0-9a-f]{8}$/.test(ip)
      ? (parseIpv4(`0x${ip}`)?.bytes ?? [0, 0, 0, 0])
      : (ip.split(/[.-]/).map(Number) as [number, number, number, number]);
    return { cls: classifyIpv4(bytes), via: 'wildcard DNS name' };
  }
  return { cls: 'public' };
}

export function classifyIpv4([a, b, c, d]: readonly number[]): AddressClass {
  if (a === 169 && b === 254 && ((c === 169 && d === 254) || (c === 170 && d === 2))) return 'metadata';
  if (a === 100 && b === 100 && c === 100 && d === 200) return 'metadata';
  if (a === 192 && b === 0 && c === 0 && d === 192) return 'metadata';
  if (a === 127) return 'loopback';
  if (a === 0) return 'unspecified';
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 169 && b === 254) return 'link_local';
  if (a === 100 && b! >= 64 && b! <= 127) return 'shared';
  if (a === 255 && b === 255 && c === 255 && d === 255) return 'broadcast';
  return 'public';
}

function classifyIpv6(host: string): AddressClass {
  const g = host.split(':').map((x) => parseInt(x, 16));
  if (g.every((x) => x === 0)) return 'unspecified';
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return 'loopback';
  if (g[0] === 0xfd00 && g[1] === 0xec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return 'metadata';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link_local';
  if ((g[0]! & 0xfe00) === 0xfc00) return 'private';
  return 'public';
}
