/**
 * ext_proc server: reply latency of inline mode while the worker pool is saturated, the
 * blocking-mode verdict latency, and observability-mode stream throughput. shadowtap runs
 * in its own process (bench/serve-process.ts); the Envoy-like driver (test/helpers/
 * extproc-driver.ts) runs here, so client work does not share the server's event loop.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/nginx.js';
import {
  createExtProcClients,
  driveExchange,
  type DriveResult,
  type DriverOptions,
  type HttpExchangeSpec,
} from '../test/helpers/extproc-driver.js';
import type { BenchReport } from './bench-types.js';

const PHASE_MS = 6000;

function getText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** Sum of one metric's samples in Prometheus text, optionally filtered by a label fragment. */
function metric(text: string, name: string, labelFragment = ''): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !line.includes(labelFragment)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m && m[1] === name) total += Number(m[3]);
  }
  return total;
}

async function startServer(
  settings: string[],
): Promise<{ grpcPort: number; adminPort: number; stop: () => Promise<void> }> {
  const [shadowPort, grpcPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const entry = fileURLToPath(new URL('./serve-process.ts', import.meta.url));
  const args = [
    '--import',
    'tsx',
    entry,
    '--shadow-port',
    String(shadowPort),
    '--grpc-port',
    String(grpcPort),
    '--admin-port',
    String(adminPort),
  ];
  for (const s of ['log.level=warn', 'shadow.host=127.0.0.1', ...settings]) args.push('--set', s);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      await getText(adminPort, '/readyz');
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('shadowtap did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    grpcPort,
    adminPort,
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (v: number): number => Math.round(v * 100) / 100;

/** Runs exchanges from `concurrency` loops for PHASE_MS; returns every result and the wall time. */
async function closedLoop(
  port: number,
  concurrency: number,
  spec: (i: number) => HttpExchangeSpec,
  opts: DriverOptions,
): Promise<{ results: DriveResult[]; seconds: number }> {
  const clients = createExtProcClients(port, 4);
  const results: DriveResult[] = [];
  let i = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() - start < PHASE_MS) results.push(await driveExchange(clients[i % 4]!, spec(i++), opts));
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  for (const c of clients) c.close();
  return { results, seconds };
}

const attack = (i: number): HttpExchangeSpec => ({
  method: 'POST',
  path: `/api/search/${i}`,
  authority: 'shop.example.com',
  headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': `bench-${i}` },
  body: `q=${encodeURIComponent(i % 2 ? "1' UNION SELECT password FROM users--" : 'running shoes')}&pad=${'p'.repeat(2500)}`,
  response: { status: i % 5 === 0 ? 500 : 200, headers: { 'content-type': 'text/html' }, body: '<html>results</html>' },
});

function latencyRow(
  name: string,
  run: { results: DriveResult[]; seconds: number },
  server: string,
): Record<string, string | number> {
  const lat = run.results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  return {
    scenario: name,
    exchanges: run.results.length,
    'exchanges/s': Math.round(run.results.length / run.seconds),
    messages: lat.length,
    'reply p50 ms': ms(percentile(lat, 50)),
    'reply p99 ms': ms(percentile(lat, 99)),
    'reply max ms': ms(lat[lat.length - 1] ?? 0),
    'over 200 ms': lat.filter((x) => x > 200).length,
    'not completed': run.results.filter((r) => r.outcome !== 'completed' && r.outcome !== 'immediate_response').length,
    server,
  };
}

export default async function benchExtProc(): Promise<BenchReport> {
  const rows: Array<Record<string, string | number>> = [];
  const inlineOpts: DriverOptions = {
    mode: { request_body_mode: 'STREAMED', response_body_mode: 'BUFFERED' },
    chunkSize: 1024,
    messageTimeoutMs: 1000,
  };

  // 1. Inline mode, pool saturated on purpose: one worker, admission queue of one.
  {
    const server = await startServer(['admission.workers=1', 'admission.queueSize=1']);
    const run = await closedLoop(server.grpcPort, 64, attack, inlineOpts);
    const text = await getText(server.adminPort, '/metrics');
    rows.push(
      latencyRow(
        'inline, saturated pool (workers=1, queue=1), 64 streams',
        run,
        `shed ${metric(text, 'shadowtap_extproc_shed_total')} of ${run.results.length}`,
      ),
    );
    await server.stop();
  }
  // 2. Blocking mode with the default pool: the headers and body steps wait for a verdict.
  {
    const server = await startServer(['extProc.blocking.enabled=true', 'extProc.blocking.minSeverity=critical']);
    const run = await closedLoop(server.grpcPort, 16, attack, {
      ...inlineOpts,
      mode: { request_body_mode: 'BUFFERED' },
    });
    const text = await getText(server.adminPort, '/metrics');
    rows.push(
      latencyRow(
        'blocking (deadline 100 ms), default pool, 16 streams',
        run,
        `blocked ${metric(text, 'shadowtap_extproc_blocked_total')}, fail-open ${metric(text, 'shadowtap_extproc_fail_open_total')}`,
      ),
    );
    await server.stop();
  }
  // 3. Observability mode: Envoy does not wait; 1,000 streams at a time over 4 connections.
  {
    const server = await startServer([]);
    const run = await closedLoop(server.grpcPort, 1000, attack, {
      observability: true,
      mode: { request_body_mode: 'STREAMED', response_body_mode: 'STREAMED' },
      chunkSize: 1024,
    });
    const text = await getText(server.adminPort, '/metrics');
    rows.push({
      scenario: 'observability, 1,000 concurrent streams',
      exchanges: run.results.length,
      'exchanges/s': Math.round(run.results.length / run.seconds),
      'not completed': run.results.filter((r) => r.outcome !== 'completed').length,
      server: `analysed ${metric(text, 'shadowtap_analyzed_total')}, shed ${metric(text, 'shadowtap_shed_total')}`,
    });
    await server.stop();
  }
  return {
    name: 'ext_proc server',
    rows,
    notes: [
      `Each scenario runs ${PHASE_MS / 1000} s of closed-loop exchanges; shadowtap in its own process, driver in this one.`,
      'Exchange: request headers, a ~2.5 KB form body (STREAMED in 1 KiB chunks, BUFFERED in blocking), response headers + body; half are UNION SQLi.',
      'reply = time from a message write to its matching reply at the driver (includes both event loops and the gRPC stack).',
      'The machine is shared with other engineers (2 cores): latencies include their load.',
    ],
  };
}
