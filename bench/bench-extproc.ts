/**
 * ext_proc server: reply latency of inline mode while the worker pool is saturated, the
 * blocking-mode verdict latency, and observability-mode stream throughput. shadowtap runs
 * in its own process (bench/serve-process.ts); the Envoy-like driver (test/helpers/
 * extproc-driver.ts) runs here, so client work does not share the server's event loop.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/nginx.js';
import {
  createExtProcClients,
  driveExchange,
  type DriveResult,
  type DriverOptions,
  type HttpExchangeSpec,
} from '../test/helpers/extproc-driver.js';
import { Registry } from 'prom-client';
import { resolveConfig } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { createExtProcMetrics } from '../src/ingest/extproc-metrics.js';
import { createExtProcService } from '../src/ingest/extproc-service.js';
import { envoyMessages } from '../test/helpers/extproc-driver.js';
import { getText } from './admin-text.js';
import type { BenchReport } from './bench-types.js';

const PHASE_MS = 4000;

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

/**
 * CPU time (user + system, all threads) the server process has used, ms, from /proc (Linux):
 * with other work on the machine, CPU per exchange is the number their load does not change.
 */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100) ticks
}

async function startServer(
  settings: string[],
): Promise<{ grpcPort: number; adminPort: number; cpuMs: () => number; stop: () => Promise<void> }> {
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
    cpuMs: () => processCpuMs(child.pid!),
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

/**
 * Runs exchanges from `concurrency` loops for `durationMs`; returns every result and the wall
 * time. `onStart` runs after a 1 s warm-up (JIT, lazy module loads), which is not counted.
 */
async function closedLoop(
  port: number,
  concurrency: number,
  spec: (i: number) => HttpExchangeSpec,
  opts: DriverOptions,
  onStart: () => Promise<void>,
  durationMs = PHASE_MS,
): Promise<{ results: DriveResult[]; seconds: number }> {
  const warmStart = performance.now();
  const warmClients = createExtProcClients(port, 1);
  while (performance.now() - warmStart < 1000) await driveExchange(warmClients[0]!, spec(0), opts);
  warmClients[0]!.close();
  await onStart();
  const clients = createExtProcClients(port, 4);
  const results: DriveResult[] = [];
  let i = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() - start < durationMs)
        results.push(await driveExchange(clients[i % 4]!, spec(i++), opts));
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
  cpuMs: number,
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
    'server CPU ms/exchange': ms(cpuMs / run.results.length),
    server,
  };
}

/**
 * The stream handler alone (order checks, assembly, replies, submit), without gRPC: a fake
 * call object is fed the decoded messages of one exchange, inline mode, admission shedding.
 */
function handlerOnly(): Record<string, string | number> {
  const config = resolveConfig({});
  const service = createExtProcService({
    config: config.extProc,
    maxRequestBodyBytes: config.analysis.limits.maxBodyBytes,
    xffTrustedHops: 0,
    pipeline: { submit: () => ({ accepted: false, reason: 'queue_full' }), submitAndWait: () => Promise.resolve(null) },
    metrics: createExtProcMetrics(new Registry()),
    logger: silentLogger(),
  });
  const process_ = (service.implementation as { Process: (call: unknown) => void }).Process;
  const messages = envoyMessages(attack(1), {
    mode: { request_body_mode: 'STREAMED', response_body_mode: 'BUFFERED' },
    chunkSize: 1024,
  });
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const call = Object.assign(new EventEmitter(), { write: () => true, end: () => undefined });
      process_(call);
      for (const m of messages) call.emit('data', m);
      call.emit('cancelled');
    }
  };
  run(2000); // warm-up
  const n = 20000;
  const cpu0 = process.cpuUsage();
  run(n);
  const cpu = process.cpuUsage(cpu0);
  return {
    scenario: `handler only (fake call, ${messages.length} messages/exchange, inline)`,
    exchanges: n,
    'server CPU ms/exchange': Math.round((cpu.user + cpu.system) / n) / 1000,
  };
}

export default async function benchExtProc(): Promise<BenchReport> {
  const rows: Array<Record<string, string | number>> = [handlerOnly()];
  const inlineOpts: DriverOptions = {
    mode: { request_body_mode: 'STREAMED', response_body_mode: 'BUFFERED' },
    chunkSize: 1024,
    messageTimeoutMs: 1000,
  };

  // 1. Inline mode, pool saturated on purpose: one worker, admission queue of one.
  {
    const server = await startServer(['admission.workers=1', 'admission.queueSize=1']);
    let cpu0 = 0;
    let shed0 = 0;
    const run = await closedLoop(server.grpcPort, 64, attack, inlineOpts, async () => {
      cpu0 = server.cpuMs();
      shed0 = metric(await getText(server.adminPort, '/metrics'), 'shadowtap_extproc_shed_total');
    });
    const cpu = server.cpuMs() - cpu0;
    const text = await getText(server.adminPort, '/metrics');
    rows.push(
      latencyRow(
        'inline, saturated pool (workers=1, queue=1), 64 streams',
        run,
        cpu,
        `shed ${metric(text, 'shadowtap_extproc_shed_total') - shed0} of ${run.results.length}`,
      ),
    );
    await server.stop();
  }
  // 2. Blocking mode with the default pool: the headers and body steps wait for a verdict.
  {
    const server = await startServer(['extProc.blocking.enabled=true', 'extProc.blocking.minSeverity=critical']);
    let cpu0 = 0;
    let blocked0 = 0;
    let failOpen0 = 0;
    const run = await closedLoop(
      server.grpcPort,
      16,
      attack,
      { ...inlineOpts, mode: { request_body_mode: 'BUFFERED' } },
      async () => {
        cpu0 = server.cpuMs();
        await getText(server.adminPort, '/metrics').then((t) => {
          blocked0 = metric(t, 'shadowtap_extproc_blocked_total');
          failOpen0 = metric(t, 'shadowtap_extproc_fail_open_total');
        });
      },
    );
    const cpu = server.cpuMs() - cpu0;
    const text = await getText(server.adminPort, '/metrics');
    rows.push(
      latencyRow(
        'blocking (deadline 100 ms), default pool, 16 streams',
        run,
        cpu,
        `blocked ${metric(text, 'shadowtap_extproc_blocked_total') - blocked0}, fail-open ${metric(text, 'shadowtap_extproc_fail_open_total') - failOpen0}`,
      ),
    );
    await server.stop();
  }
  // 3. Observability mode: Envoy does not wait; 1,000 streams at once over 4 connections,
  //    then the time until admission has taken or shed all of them and the pool is done.
  {
    const server = await startServer([]);
    const clients = createExtProcClients(server.grpcPort, 4);
    const opts: DriverOptions = {
      observability: true,
      mode: { request_body_mode: 'STREAMED', response_body_mode: 'STREAMED' },
      chunkSize: 1024,
    };
    const cpu0 = server.cpuMs();
    const start = performance.now();
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => driveExchange(clients[i % 4]!, attack(i), opts)),
    );
    const streamsS = (performance.now() - start) / 1000;
    let text = '';
    for (const until = performance.now() + 10000; performance.now() < until;) {
      text = await getText(server.adminPort, '/metrics');
      if (metric(text, 'shadowtap_analyzed_total') + metric(text, 'shadowtap_shed_total') >= 1000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const doneS = (performance.now() - start) / 1000;
    const cpu = server.cpuMs() - cpu0;
    for (const c of clients) c.close();
    rows.push({
      scenario: 'observability, 1,000 concurrent streams',
      exchanges: results.length,
      'exchanges/s': Math.round(results.length / streamsS),
      'not completed': results.filter((r) => r.outcome !== 'completed').length,
      'server CPU ms/exchange': ms(cpu / results.length),
      server: `all streams closed in ${streamsS.toFixed(1)} s; analysed ${metric(text, 'shadowtap_analyzed_total')}, shed ${metric(text, 'shadowtap_shed_total')}, detections ${metric(text, 'shadowtap_detections_total')} after ${doneS.toFixed(1)} s`,
    });
    await server.stop();
  }
  return {
    name: 'ext_proc server',
    rows,
    notes: [
      `Inline and blocking: 1 s warm-up, then ${PHASE_MS / 1000} s of closed-loop exchanges; shadowtap in its own process, driver in this one.`,
      'Exchange: request headers, a ~2.5 KB form body (STREAMED in 1 KiB chunks, BUFFERED in blocking), response headers + body; half are UNION SQLi.',
      'reply = time from a message write to its matching reply at the driver (includes both event loops and the gRPC stack).',
      'The machine is shared with other engineers (2 cores): latencies include their load; server CPU ms/exchange (all threads, analysis included, from /proc) does not.',
    ],
  };
}
