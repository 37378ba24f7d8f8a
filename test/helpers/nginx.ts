import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Where Debian's nginx package puts the binary; PATH is searched next. */
const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];

/**
 * The nginx binary, or a loud error: the NGINX mirror tests and the ModSecurity benchmark
 * need a real nginx (`.ci/run` installs Debian's package), and silently skipping would let
 * the end-to-end proof rot unnoticed.
 */
export function findNginx(): string {
  const fromPath = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'nginx'));
  for (const candidate of [process.env.NGINX_BIN, ...NGINX_CANDIDATES, ...fromPath]) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next candidate
    }
  }
  throw new Error(
    'nginx is not installed: the NGINX mirror end-to-end test needs it. ' +
      'Install it with `apt-get install -y nginx` (Debian; .ci/run does this), or set NGINX_BIN.',
  );
}

/** A free loopback TCP port: bind port 0, read it back, close. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Paths nginx must not take from its compiled-in (root-owned) defaults. */
export interface NginxPaths {
  /** The prefix directory (temporary, removed by stop()). */
  dir: string;
  /** `client_body_temp_path … scgi_temp_path` lines for the http block, all inside dir. */
  tempPaths: string;
  errorLog: string;
}

export interface RunningNginx {
  readonly dir: string;
  readonly process: ChildProcess;
  /** The error log's contents so far (useful in assertion messages). */
  errorLog(): string;
  /** Fast shutdown (SIGTERM), SIGKILL after timeoutMs; removes the prefix directory. */
  stop(timeoutMs?: number): Promise<void>;
}

function waitForPort(port: number, host: string, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const why = exited();
      if (why) return reject(new Error(why));
      const socket = net.connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nginx did not listen on ${host}:${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

/**
 * Starts nginx in the foreground (`daemon off`) as a child process, with a generated config
 * in a fresh temporary prefix directory: no root paths, error log to a file, pid file inside
 * the directory. `config(paths)` returns the whole nginx.conf; `waitPorts` are polled
 * until they accept connections.
 */
export async function startNginx(opts: {
  config: (paths: NginxPaths) => string;
  waitPorts: number[];
  host?: string;
  timeoutMs?: number;
}): Promise<RunningNginx> {
  const bin = findNginx();
  const dir = mkdtempSync(join(tmpdir(), 'shadowtap-nginx-'));
  // When run as root the master drops worker privileges to `nobody`, which must be able to
  // reach the temp directories nginx creates inside the prefix.
  chmodSync(dir, 0o755);
  const errorLog = join(dir, 'error.log');
  const tempPaths = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `${kind}_temp_path ${join(dir, `${kind}_temp`)};`)
    .join('\n    ');
  const confFile = join(dir, 'nginx.conf');
  writeFileSync(confFile, opts.config({ dir, tempPaths, errorLog }));

  // -e: the error log used before the config is read (Debian's default is under /var/log).
  const child = spawn(
    bin,
    ['-p', dir, '-e', errorLog, '-c', confFile, '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exitReason: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitReason = `nginx exited (code ${code}, signal ${signal}): ${stderr.trim()} ${readLog(errorLog).slice(-2000)}`;
      resolve();
    });
    child.once('error', (err) => {
      exitReason = `nginx failed to start: ${err.message}`;
      resolve();
    });
  });

  const running: RunningNginx = {
    dir,
    process: child,
    errorLog: () => readLog(errorLog),
    async stop(timeoutMs = 3000) {
      if (exitReason === undefined) {
        // SIGTERM is nginx's fast shutdown: the master stops its workers and exits at once.
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const host = opts.host ?? '127.0.0.1';
    for (const port of opts.waitPorts) await waitForPort(port, host, opts.timeoutMs ?? 5000, () => exitReason);
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * nginx as the front proxy of `app`, mirroring every request (with its body) to shadowtap's
 * shadow listener: the configuration the README documents for NGINX users. The mirror
 * location keeps the client's Host, appends the client to X-Forwarded-For and passes the
 * request id that nginx also hands to the app and returns to the client (correlation key).
 * Short mirror timeouts: a slow or dead shadowtap must not hold nginx's subrequests long.
 */
export function mirrorConfig(opts: {
  paths: NginxPaths;
  frontPort: number;
  appPort: number;
  shadowPort: number;
}): string {
  const { paths, frontPort, appPort, shadowPort } = opts;
  return `worker_processes 1;
error_log ${paths.errorLog} warn;
events { worker_connections 1024; }
http {
    ${paths.tempPaths}
    access_log off;
    upstream app { server 127.0.0.1:${appPort}; keepalive 16; }
    server {
        listen 127.0.0.1:${frontPort};
        client_max_body_size 8m;
        location / {
            mirror /mirror;
            mirror_request_body on;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Request-Id $request_id;
            add_header X-Request-Id $request_id always;
            proxy_pass http://app;
        }
        location = /mirror {
            internal;
            proxy_pass http://127.0.0.1:${shadowPort}$request_uri;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Host $host;
            proxy_set_header X-Request-Id $request_id;
            proxy_connect_timeout 1s;
            proxy_send_timeout 2s;
            proxy_read_timeout 2s;
        }
    }
}
`;
}
