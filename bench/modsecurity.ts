/**
 * The comparison point: what users run today, nginx + ModSecurity v3 + OWASP CRS at
 * paranoia level 1, from Debian's packages (nginx, libnginx-mod-http-modsecurity,
 * modsecurity-crs), in front of a trivial upstream (a second nginx server block that
 * returns 200). Inline, so every request is inspected before it is answered: its
 * throughput is the rate at which ModSecurity analyses this mix.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startNginx, type RunningNginx } from '../test/helpers/nginx.js';

const MODULE = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so';
const CRS_SETUP = '/etc/modsecurity/crs/crs-setup.conf';
const CRS_RULES = '/usr/share/modsecurity-crs/rules';

/** Why the comparison cannot run here, or null when every package is installed. */
export function modsecurityMissing(): string | null {
  const missing = [
    ['/usr/sbin/nginx', 'nginx'],
    [MODULE, 'libnginx-mod-http-modsecurity'],
    [CRS_SETUP, 'modsecurity-crs'],
    [CRS_RULES, 'modsecurity-crs'],
  ].filter(([path]) => !existsSync(path!));
  if (missing.length === 0) return null;
  return `not installed: ${[...new Set(missing.map(([, pkg]) => pkg))].join(', ')} (apt-get install -y nginx libnginx-mod-http-modsecurity modsecurity-crs)`;
}

/** The CRS version the Debian package ships, read from crs-setup.conf. */
export function crsVersion(): string {
  const m = /tx\.crs_setup_version=(\d+)/.exec(readFileSync(CRS_SETUP, 'utf8'));
  const v = m?.[1];
  return v ? `${v[0]}.${v[1]}.${v.slice(2)}` : 'unknown';
}

export interface ModsecNginx {
  nginx: RunningNginx;
  port: number;
  /** Number of ModSecurity rule matches nginx logged so far (proves the rules ran). */
  matches(): number;
  /** Resident memory of nginx's master + workers, bytes. */
  rss(): number;
  /** CPU time (user + system) used so far by nginx's master + workers, seconds. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * Starts nginx + ModSecurity + CRS PL1. `engine`: 'DetectionOnly' evaluates every rule and
 * lets every request through (what an out-of-band detector is compared with); 'On' blocks.
 */
export async function startModsecNginx(opts: {
  workers: number;
  engine: 'DetectionOnly' | 'On';
}): Promise<ModsecNginx> {
  const [port, upstreamPort] = [await freePort(), await freePort()];
  const nginx = await startNginx({
    waitPorts: [port, upstreamPort],
    config: (paths) => {
      // ModSecurity logs rule matches at nginx's info level: they are counted from the log
      // (the cost of writing them is part of a real deployment; access log off, audit log off).
      // The main ModSecurity file follows Debian's modsecurity.conf-recommended (body access
      // on, JSON and XML body processors, audit log off), then the CRS setup and rules.
      const rules = join(paths.dir, 'modsecurity.conf');
      writeFileSync(
        rules,
        `SecRuleEngine ${opts.engine}
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "(?:application(?:/soap\\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.'"
SecPcreMatchLimit 1000
SecPcreMatchLimitRecursion 1000
SecResponseBodyAccess Off
SecTmpDir ${paths.dir}
SecDataDir ${paths.dir}
SecAuditEngine Off
SecArgumentSeparator &
SecCookieFormat 0
SecStatusEngine Off
Include ${CRS_SETUP}
Include ${CRS_RULES}/*.conf
`,
      );
      return `load_module ${MODULE};
worker_processes ${opts.workers};
error_log ${paths.errorLog} info;
events { worker_connections 4096; }
http {
    ${paths.tempPaths}
    access_log off;
    client_max_body_size 16m;
    upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }
    server {
        listen 127.0.0.1:${port};
        modsecurity on;
        modsecurity_rules_file ${rules};
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }
    }
    server {
        listen 127.0.0.1:${upstreamPort};
        error_log ${paths.errorLog} warn;
        location / { return 200 "ok\\n"; }
    }
}
`;
    },
  });
  return {
    nginx,
    port,
    matches: () => (nginx.errorLog().match(/ModSecurity: Warning/g) ?? []).length,
    rss: () => processTree(nginx.process.pid!).rss,
    cpuSeconds: () => processTree(nginx.process.pid!).cpuSeconds,
    stop: () => nginx.stop(),
  };
}

/** RSS and CPU time of a process and its children (nginx workers), from /proc. */
function processTree(pid: number): { rss: number; cpuSeconds: number } {
  let rss = 0;
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command, from state (3): ppid 4, utime 14, stime 15
      // (clock ticks, 100/s on Linux), rss 24 (pages).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      if (Number(entry) !== pid && ppid !== pid) continue;
      rss += Number(fields[21]) * 4096;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process exited while we looked
    }
  }
  return { rss, cpuSeconds: ticks / 100 };
}
