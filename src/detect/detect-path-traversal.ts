import type { DetectContext, Detector, Hit, Point } from '../core/model.js';
import { parseUrlLike } from './url-host.js';
import { headerName, hitCollector, isHeader, isInfraHeader, percentDecodeDeep, type Rule } from './detect-kit.js';

/*
 * Path traversal / local file inclusion and remote file inclusion.
 *
 * A value is decoded the way a vulnerable file API would see it (percent-decoding repeated,
 * %uXXXX, overlong UTF-8, `\` as `/`, NUL cut), split into segments, and judged on the
 * segments: a `..` segment that climbs somewhere (`../x`), how many of them, whether an
 * encoding evasion was needed to smuggle them, and where they lead (a sensitive OS file).
 * `report..final.pdf` has no `..` segment; `/get/..` climbs nowhere.
 */

const R = {
  traversal: { id: 'ST-LFI-001', attackType: 'path_traversal', severity: 'high' },
  osFile: { id: 'ST-LFI-002', attackType: 'path_traversal', severity: 'high' },
  restricted: { id: 'ST-LFI-003', attackType: 'path_traversal', severity: 'medium' },
  wrapper: { id: 'ST-LFI-004', attackType: 'path_traversal', severity: 'high' },
  nulByte: { id: 'ST-LFI-005', attackType: 'path_traversal', severity: 'medium' },
  rfiIp: { id: 'ST-RFI-001', attackType: 'rfi', severity: 'high' },
  rfiTrick: { id: 'ST-RFI-002', attackType: 'rfi', severity: 'high' },
  rfiParam: { id: 'ST-RFI-003', attackType: 'rfi', severity: 'high' },
  rfiOffsite: { id: 'ST-RFI-004', attackType: 'rfi', severity: 'medium' },
} satisfies Record<string, Rule>;

/** Sensitive OS files and directories, matched against the `/`-normalised, lower-cased path. */
const OS_FILE =
  /(?:^|\/)(?:etc\/(?:passwd|shadow|group|gshadow|hosts|hostname|issue|motd|sudoers|crontab|fstab|subuid|subgid|master\.passwd|security\/|ssh\/|mysql\/|apache2?\/|httpd\/|nginx\/|php\/|resolv\.conf|profile|environment|os-release|lsb-release)|proc\/(?:self|\d+|net|sys|version|cpuinfo|meminfo|mounts|interrupts|sched_debug|kcore)(?:\/|$)|sys\/(?:class|kernel|power|devices)(?:\/|$)|(?:root|home\/[^/]+)\/\.(?:ssh|aws|bash_history|docker|kube|gnupg|config)|\.ssh\/(?:id_[a-z0-9]+|authorized_keys|known_hosts)|\.aws\/credentials|\.docker\/|var\/log\/|var\/run\/secrets|usr\/local\/(?:apps\/)?apache2?\/conf|windows\/(?:win\.ini|system\.ini|system32|repair|debug|panther)|winnt\/|boot\.ini|inetpub\/|web-inf\/|meta-inf\/|\.htpasswd|\.htaccess|\.env$|\.git\/|wp-config\.php)/;

/** Well-known application secrets and dumps a client has no reason to fetch by URL path. */
const RESTRICTED_NAME =
  /^(?:\.(?:env(?:\..*)?|git|svn|hg|bzr|htaccess|htpasswd|ds_store|bash_history|zsh_history|history|mysql_history|psql_history|ssh|aws|docker|kube|npmrc|pypirc|netrc|git-credentials|gitconfig|idea|vscode|claude|cursor|continue|aider|roo|zed|cline|kiro|windsurf|rovodev|codex|opencode|a0proj|plandex|fabric|n8n|junie|aiignore|cursorignore|cursorrules|copilot|terraform|vagrant)|web\.config|wp-config\.php(?:\..+)|id_rsa|id_dsa|id_ecdsa|id_ed25519|debug\.log|error\.log|errors\.log|php_errors\.log|(?:backup|dump|db|database|site|www)\.(?:sql|tar|tgz|zip|gz|bak|7z|rar)(?:\.(?:zip|gz|bz2|7z))?)$/;

/** Hidden path segments that are legitimately requested. */
const HIDDEN_OK = new Set(['.well-known']);

const WRAPPER =
  /\b(php:\/\/(?:filter|input|fd|memory|temp|stdin)|(?:zip|phar|glob|expect|compress\.zlib|compress\.bzip2|ogg|ssh2\.[a-z]+|rar|zlib):\/\/|data:(?:\/\/)?(?:text\/plain|application\/x-(?:httpd-)?php)(?:;base64)?(?:,|$|")|data:\/\/)/i;

/** Parameter names of PHP apps with published RFI advisories (CRS 931110). */
const RFI_KNOWN_PARAM =
  /(?:^|[[_.])(?:mosconfig_[a-z_]+|_conf\[[a-z_]+\]|_conf\.[a-z_]+|globals\[[a-z_]+\]|include_path|includedir|include_file|phpbb_root_path|root_path|abs_path|absolute_path|basepath|base_path|lib_path|libdir|server\[document_root\]|appserv_root|path_to_root|dir\[[a-z_]+\]|cfg\[[a-z_]+\])\]?$/i;

/** Parameter names that apps feed to include(); only with a script-like URL. */
const RFI_PARAM =
  /(?:^|[[_.])(?:include|inc|require|page|template|tpl|layout|module|skin|theme|lang|path|dir|file(?:name)?|doc(?:ument)?|conf(?:ig)?|cat|show|view|site|load|read|pg|style|nav|content|prefix|home|folder)\]?$/i;

/** A URL path ending in something an include() would execute or read as code. */
const SCRIPT_URL = /\/[^/?#]*\.(?:php\d?|phtml|txt|inc|pl|cgi|sh|py|jsp|aspx?)(?:$|[?#]|%00)/i;

/** The decoded shape of one value as a file API would see it. */
interface FileView {
  /** Lower-cased, `\` → `/`, NUL cut, fully percent-decoded. */
  path: string;
  /** Rounds of percent-decoding that still changed the value (beyond what the decoder did). */
  extraRounds: number;
  overlong: boolean;
  nul: boolean;
}

function fileView(raw: string): FileView {
  const overlong = /%(?:c0|c1|e0%[89][0-9a-f])%|%u00(?:2e|2f|5c)|%25(?:2e|2f|5c|c0|c1|u)/i.test(raw);
  const decoded = raw.includes('%') ? percentDecodeDeep(raw) : { value: raw, rounds: 0 };
  // Look-alikes that some file APIs and normalisers fold to '.', '/' and '\\'.
  const value = /[\uff0e\u2024\u2215\u2044\uff0f\u2216\uff3c\u29f5]/.test(decoded.value)
    ? decoded.value
        .replace(/[\uff0e\u2024]/g, '.')
        .replace(/[\u2215\u2044\uff0f]/g, '/')
        .replace(/[\u2216\uff3c\u29f5]/g, '\\')
    : decoded.value;
  const rounds = decoded.rounds + (value !== decoded.value ? 1 : 0);
  const nulAt = value.indexOf('\u0000');
  const cut = nulAt >= 0 ? value.slice(0, nulAt) : value;
  return {
    path: cut.replace(/\\/g, '/').toLowerCase(),
    extraRounds: rounds,
    overlong,
    nul: nulAt >= 0 && nulAt < value.length - 0,
  };
}

/** Segments that climb: `..`, and the Windows/Tomcat variants `...`, `.. `, `..;x`. */
const CLIMB = /^\.\.+[\s.]*(?:;.*)?$/;

/** Counts climbing segments that are followed by something (so `/get/..` is not one). */
function climbs(path: string): { count: number; leading: boolean } {
  // Separators: '/' (after '\\' was folded) plus what delimits a path inside text or a
  // command line, so `cat ../../etc/passwd` and `file=../x` are read as paths too.
  const segs = path.split(/[/\s='"`(),|&<>]/);
  let count = 0;
  for (let i = 0; i < segs.length; i++) {
    if (!CLIMB.test(segs[i]!)) continue;
    const rest = segs.slice(i + 1).some((s) => s.length > 0);
    if (rest) count++;
  }
  const leading = CLIMB.test(segs[0] ?? '') && segs.length > 1;
  return { count, leading };
}

function inspectTraversal(point: Point, ctx: DetectContext, add: ReturnType<typeof hitCollector>['add']): void {
  const v = point.value;
  if (v.length > 8192 && !isFileLocation(point)) return;
  const view = fileView(v);
  const p = view.path;
  const raw = v.toLowerCase();
  const evasion = view.overlong || view.extraRounds > 0 || /%2e|%2f|%5c|0x2e|0x2f|0x5c/.test(raw);
  const pathPoint = point.location === 'path.raw' || point.location === 'path.normalized';
  const segPoint = /^path\.\d+$/.test(point.location);

  if (p.includes('..')) {
    const { count, leading } = climbs(p);
    const tomcat = /(?:^|\/)\.\.;/.test(p);
    const os = OS_FILE.exec(p);
    if (count > 0) {
      let conf: number;
      if (os) conf = 0.95;
      else if (count >= 2) conf = pathPoint || isFileLocation(point) ? 0.95 : 0.85;
      else if (evasion || view.nul || tomcat) conf = 0.85;
      else if (segPoint)
        conf = 0.9; // a decoded segment holding '/' means an encoded slash
      else if (pathPoint || isFileLocation(point)) conf = 0.8;
      else if (leading) conf = 0.7;
      else conf = 0.4;
      if (isInfraHeader(point) && headerName(point) !== 'x-envoy-original-path') conf -= 0.3;
      add(
        R.traversal,
        conf,
        v,
        `${count} '..' segment(s)${evasion ? ' behind encoding' : ''}${os ? ` reaching ${os[0]}` : ''}`,
      );
    }
  }
  // A Windows traversal written with 0x-escapes (`0x2e.`, `0x5c0x2e.`) only means anything to
  // a decoder that an attacker is probing for.
  if (/0x2e(?:\.|0x2e)|0x5c0x2e|0x2f0x2e/.test(raw)) add(R.traversal, 0.75, v, "hex-escaped '..' sequence");

  const os = OS_FILE.exec(p);
  if (os) {
    // The whole value is the path (what a file parameter receives), or the path sits inside
    // text; in text only names that have no business in prose count (`/var/log` in a pasted
    // shell session is ordinary, `/etc/shadow` is not).
    const whole = /^(?:[a-z]:)?\/|^file:|^~\/|^\.{0,2}\//.test(p.trimStart()) && !/\s/.test(p.trim());
    const distinctive =
      /passwd|shadow|subuid|subgid|sudoers|id_[rde]|credentials|win\.ini|boot\.ini|system32|proc\/|sys\/(?:class|kernel)|htpasswd|web-inf|\.aws|\.ssh|\.docker|secrets/.test(
        os[0],
      );
    // In prose ("the /etc/passwd file lists users") a distinctive name is still a mention;
    // in a short value or after a read command it is a request for the file.
    const readCmd =
      /\b(?:cat|tac|head|tail|less|more|nl|strings|xxd|od|base64|type|get-content)\s+(?:-\w+\s+)*["']?(?:[a-z]:)?\//.test(
        p,
      );
    const shortText = p.trim().split(/\s+/).length <= 4;
    let conf = whole ? 0.85 : distinctive ? (shortText || readCmd ? 0.75 : 0.5) : 0.4;
    // A shell read of a system config file inside a request header is never a pasted session.
    if (
      !whole &&
      !distinctive &&
      isHeader(point) &&
      /\b(?:cat|tac|head|tail|less|more|nl|strings|xxd|od|base64)\s+(?:-\w+\s+)*\/(?:etc|root|home)\//.test(p)
    )
      conf = 0.7;
    if (pathPoint) conf = 0.8;
    if (isInfraHeader(point)) conf -= 0.3;
    add(R.osFile, conf, v, `sensitive system file ${os[0]}`);
  }
  if (view.nul && /\.[a-z0-9]{1,5}\u0000|\u0000\.[a-z0-9]{1,5}$|\/\u0000?$/.test(percentDecodeDeep(raw).value)) {
    add(R.nulByte, 0.7, v, 'NUL byte truncating a file name');
  }

  if (pathPoint) inspectRestrictedPath(p, v, add);
  const w = WRAPPER.exec(v);
  if (w) {
    const conf = /^(?:php:|expect:|phar:|zip:|glob:|compress\.|data:)/i.test(v.trimStart()) ? 0.9 : 0.65;
    add(R.wrapper, isHeader(point) ? conf - 0.2 : conf, w[0], `stream wrapper ${w[1]}`);
  }
}

function inspectRestrictedPath(p: string, raw: string, add: ReturnType<typeof hitCollector>['add']): void {
  const segs = p.split('/').filter(Boolean);
  for (const seg of segs) {
    if (RESTRICTED_NAME.test(seg)) {
      add(R.restricted, 0.85, raw, `restricted file ${seg}`);
      return;
    }
  }
  for (const seg of segs) {
    if (seg.startsWith('.') && !seg.startsWith('..') && seg.length > 1 && !HIDDEN_OK.has(seg)) {
      add(R.restricted, 0.6, raw, `hidden path segment ${seg}`);
      return;
    }
  }
  if (/^@fs\/|^@id\/__x00__/.test(segs.join('/'))) add(R.restricted, 0.85, raw, 'Vite dev-server file access');
  if (/\.(?:sql|bak|old|orig|swp|save)(?:\.(?:zip|gz|tar|7z))?$/.test(segs[segs.length - 1] ?? '')) {
    add(R.restricted, 0.6, raw, 'backup or dump file');
  }
}

function isFileLocation(point: Point): boolean {
  return point.location.endsWith('.filename') || point.location.startsWith('path.');
}

function paramName(point: Point): string {
  const loc = point.location;
  const m = /^(?:query|body\.form|body\.json|body\.multipart|cookie)\.(.+)$/.exec(loc);
  return m ? m[1]! : '';
}

function inspectRfi(point: Point, ctx: DetectContext, add: ReturnType<typeof hitCollector>['add']): void {
  if (isInfraHeader(point) || point.kind === 'key') return;
  const v = point.value.trim();
  if (v.length > 4096) return;
  // CRS 931120: a scheme or URL ending in '?' (or NUL) turns the appended '.php' into a query.
  if (/^(?:https?|ftps?|file)\?$/i.test(v)) {
    add(R.rfiTrick, 0.7, v, 'scheme followed by ? (include suffix neutraliser)');
    return;
  }
  const wrapped = /^(jar|url|netdoc|view-source):(?=[a-z][a-z0-9+.-]*:)/i.exec(v);
  if (wrapped) {
    add(R.rfiTrick, 0.8, v, `${wrapped[1]!.toLowerCase()}: wrapped URL`);
    return;
  }
  const u = parseUrlLike(v);
  if (!u || !u.host || !/^(?:https?|ftps?)$/.test(u.scheme)) return;
  const path = v.slice(v.indexOf(u.host) + u.host.length);
  if (/[?#]$|%00$|\u0000$/.test(v) && (path.length > 0 || v.endsWith('?'))) {
    add(R.rfiTrick, 0.8, v, 'remote URL ending in ? or NUL (include suffix neutraliser)');
  }
  if (u.hostKind === 'ipv4' || u.hostKind === 'ipv6') {
    add(R.rfiIp, 0.75, v, `remote include from raw IP ${u.host}`);
  }
  const name = paramName(point);
  if (name && RFI_KNOWN_PARAM.test(name)) add(R.rfiParam, 0.8, v, `URL in include parameter ${name}`);
  else if (name && RFI_PARAM.test(name) && SCRIPT_URL.test(v))
    add(R.rfiParam, 0.7, v, `script URL in include-style parameter ${name}`);
  if (u.userinfo !== undefined && /%2f|\//i.test(u.userinfo)) add(R.rfiTrick, 0.8, v, 'host hidden behind userinfo');
  // Allow-list bypasses: a path that restarts an authority after an encoded slash
  // (`https://example.com%2f@evil.com/`), a host that merely starts with the site's own name
  // (`example.com.evil.com`), the site's own host on another port (a port probe).
  const afterHost = v.slice(u.raw.length);
  if (/^\/(?::[^/?#]*)?@[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:[/:?#]|$)/i.test(afterHost)) {
    add(R.rfiTrick, 0.75, v, 'second authority after an encoded slash');
  }
  const reqHost = ctx.request.host.replace(/:\d+$/, '').toLowerCase();
  const reqPort = /:(\d+)$/.exec(ctx.request.host)?.[1];
  if (reqHost && u.host.startsWith(`${reqHost}.`)) add(R.rfiTrick, 0.75, v, `host ${u.host} impersonates ${reqHost}`);
  else if (
    reqHost &&
    u.host === reqHost &&
    u.port !== undefined &&
    u.port !== reqPort &&
    !/^(?:80|443)$/.test(u.port)
  ) {
    add(R.rfiTrick, 0.6, v, `this site on another port (${u.port})`);
  }
  if (u.host !== reqHost && !u.host.endsWith(`.${reqHost}`)) {
    // FTP is not how web applications link to content; a remote FTP URL in a parameter is an
    // include attempt far more often than a download link.
    add(
      u.scheme.startsWith('ftp') ? R.rfiTrick : R.rfiOffsite,
      u.scheme.startsWith('ftp') ? 0.6 : 0.4,
      v,
      `off-site ${u.scheme} URL to ${u.host}`,
    );
  }
}

/** Path traversal / LFI and RFI detector. */
export const pathTraversalDetector: Detector = {
  id: 'path_traversal',
  inspectPoint(point: Point, ctx: DetectContext): Hit[] {
    const v = point.value;
    if (v.length < 3) return [];
    const c = hitCollector(ctx);
    // Multipart decoders unescape `\` in quoted file names ("..\\x" → "..x"); the raw
    // Content-Disposition keeps what the server's own parser may read.
    if (point.location.endsWith('.header.content-disposition')) {
      const fn = /filename\*?=\s*"?([^";]*)/i.exec(v);
      if (fn) inspectTraversal({ ...point, location: `${point.location}.filename`, value: fn[1]! }, ctx, c.add);
      return c.hits;
    }
    // Cheap pre-filter: every rule needs a dot, a slash, a percent or a colon.
    if (/[./\\%:?]/.test(v)) {
      inspectTraversal(point, ctx, c.add);
      if (v.includes(':') || v.includes('?')) inspectRfi(point, ctx, c.add);
    }
    return c.hits;
  },
};
