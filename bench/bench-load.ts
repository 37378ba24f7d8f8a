/**
 * `npm run bench load`: shadowtap under a realistic mirrored mix, over HTTP/1.1 and h2c,
 * at its capacity and at 2× and 5× overload, next to nginx + ModSecurity v3 + OWASP CRS
 * PL1 analysing the same mix (when Debian's packages are installed), and next to the floor:
 * the same 5× load against a listener that only parses and answers (bench/floor-listener.ts).
 *
 * Everything runs on loopback, each party in its own process: shadowtap
 * (`node bin/shadowtap.js serve`, built with tsc first), the load generator (bench/load-gen.ts),
 * the floor listener, nginx.
 * Numbers come from shadowtap's own /metrics (analysed/shed/received deltas, RSS) and from
 * the generator (response times of the shadow listener). Phase length: BENCH_PHASE_S
 * (default 4 s); the whole run takes about 3.5 minutes on the 2-core machine.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/nginx.js';
import { getText } from './admin-text.js';
import type { BenchReport } from './bench-types.js';
import { runLoad, type LoadResult, type LoadSpec } from './load-gen.js';
import { loadMix, mixSummary } from './load-mix.js';
import { crsVersion, modsecurityMissing, startModsecNginx } from './modsecurity.js';

const PHASE_S = Number(process.env.BENCH_PHASE_S ?? 4);
const HOST = 'shop.example.com';
// 20,000 distinct requests: a phase at capacity sees each about twice, so the workers' point
// cache helps only where real traffic repeats too (User-Agent, Accept, cookie names), not
// because the benchmark replays a short loop of identical requests.
const MIX = { seed: 42, mixCount: 20000 };

interface Snapshot {
  at: number;
  received: number;
  analyzed: number;
  rejected: number;
  shed: Record<string, number>;
  rss: number;
  /** process_cpu_seconds_total: all threads (listener and detection workers). */
  cpu: number;
  /** nodejs_eventloop_lag_p99_seconds since the previous scrape (prom-client resets it). */
  lagP99: number;
}

/** Reads the counters the report needs from shadowtap's Prometheus text. */
async function snapshot(adminPort: number): Promise<Snapshot> {
  const text = await getText(adminPort, '/metrics');
  const snap: Snapshot = { at: Date.now(), received: 0, analyzed: 0, rejected: 0, shed: {}, rss: 0, cpu: 0, lagP99: 0 };
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{([^}]*)\})? ([\d.e+-]+)$/.exec(line);
    if (!m) continue;
    const [, name, labels, raw] = m;
    const value = Number(raw);
    if (name === 'shadowtap_received_total') snap.received += value;
    else if (name === 'shadowtap_analyzed_total') snap.analyzed += value;
    else if (name === 'shadowtap_rejected_total') snap.rejected += value;
    else if (name === 'process_resident_memory_bytes') snap.rss = value;
    else if (name === 'process_cpu_seconds_total') snap.cpu = value;
    else if (name === 'nodejs_eventloop_lag_p99_seconds') snap.lagP99 = value;
    else if (name === 'shadowtap_shed_total') {
      const reason = /reason="([^"]*)"/.exec(labels ?? '')?.[1] ?? 'unknown';
      snap.shed[reason] = (snap.shed[reason] ?? 0) + value;
    }
  }
  return snap;
}

const shedTotal = (s: Snapshot): number => Object.values(s.shed).reduce((a, b) => a + b, 0);

async function startServer(): Promise<{
  child: ChildProcess;
  /** The server's pid: its main thread is the listener (see mainThreadCpuS). */
  pid: number | undefined;
  shadowPort: number;
  /** The dedicated h2c port (shadow.h2cPort), where h2c load goes. */
  h2cPort: number;
  adminPort: number;
  stop: () => Promise<void>;
}> {
  const [shadowPort, h2cPort, grpcPort, adminPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  // What ships: the tsc build started the way users start it (`shadowtap serve`), not the
  // sources under tsx (whose transform adds work at run time, e.g. a __name call per closure).
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.json'],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: 'inherit',
    },
  );
  const entry = fileURLToPath(new URL('../bin/shadowtap.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      entry,
      'serve',
      '--shadow-port',
      String(shadowPort),
      '--shadow-h2c-port',
      String(h2cPort),
      '--grpc-port',
      String(grpcPort),
      '--admin-port',
      String(adminPort),
      '--set',
      'log.level=warn',
      '--set',
      'shadow.host=127.0.0.1',
      // A 4096-entry queue holds several seconds of this mix: with short phases, 2× and 5×
      // would only fill it. 1024 entries show the shedding within a phase.
      '--set',
      'admission.queueSize=1024',
      // Variants without editing the bench: BENCH_SET='admission.workerNice=10 admission.workers=2'.
      ...(process.env.BENCH_SET ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .flatMap((kv) => ['--set', kv]),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      if ((await getText(adminPort, '/readyz')).length >= 0) break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('shadowtap did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    child,
    pid: child.pid,
    shadowPort,
    h2cPort,
    adminPort,
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    },
  };
}

interface PhaseResult {
  load: LoadResult;
  analyzedPerS: number;
  /**
   * Analysed req/s from the first arrival until the queue drained: when the phase kept the
   * queue non-empty throughout, the pool's throughput, undiluted by the generator competing
   * for the CPU during the load window.
   */
  busyAnalyzedPerS: number;
  shed: Record<string, number>;
  shedTotal: number;
  received: number;
  accounted: boolean;
  rssMax: number;
  /** Analysed requests per CPU-second the server used (phase and drain). */
  analyzedPerCpuS: number;
  /** Worst 250 ms-window p99 of the server's event-loop delay during the phase, ms. */
  lagP99Ms: number;
  /** CPU of the listener's thread (main thread) per received request, µs; undefined off Linux. */
  listenerUsPerRequest: number | undefined;
}

/**
 * CPU seconds (user + system) of a process's main thread, the shadow listener's event loop,
 * from /proc (Linux; undefined elsewhere). Ticks are USER_HZ, 100 on Linux.
 */
function mainThreadCpuS(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'latin1');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Waits (≤ 15 s) until every received request is analysed, shed or rejected. */
async function drained(adminPort: number): Promise<Snapshot> {
  let after = await snapshot(adminPort);
  const deadline = Date.now() + 15000;
  while (after.analyzed + shedTotal(after) + after.rejected < after.received && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    after = await snapshot(adminPort);
  }
  return after;
}

/**
 * One load phase against shadowtap. /metrics is sampled every 250 ms while the generator
 * runs; the analysed rate is taken over the window in which requests kept arriving (so the
 * generator's start-up and the queue's drain afterwards do not dilute or inflate it).
 */
async function phase(adminPort: number, spec: LoadSpec, serverPid?: number): Promise<PhaseResult> {
  const before = await snapshot(adminPort);
  const listenerCpuBefore = mainThreadCpuS(serverPid);
  const samples: Snapshot[] = [before];
  let running = true;
  const sampler = (async () => {
    while (running) {
      await new Promise((r) => setTimeout(r, 250));
      samples.push(await snapshot(adminPort));
    }
  })();
  const load = await runLoad(spec);
  running = false;
  await sampler;
  const active = samples.filter((s, i) => i > 0 && s.received > samples[i - 1]!.received);
  const first = active[0] ?? before;
  const last = active[active.length - 1] ?? before;
  const window = (last.at - first.at) / 1000;
  const analyzedPerS = window > 0 ? (last.analyzed - first.analyzed) / window : 0;

  const after = await drained(adminPort);
  const listenerCpuAfter = mainThreadCpuS(serverPid);
  const shed: Record<string, number> = {};
  for (const [reason, v] of Object.entries(after.shed)) {
    const d = v - (before.shed[reason] ?? 0);
    if (d > 0) shed[reason] = d;
  }
  const received = after.received - before.received;
  const analyzed = after.analyzed - before.analyzed;
  const rejected = after.rejected - before.rejected;
  const shedSum = Object.values(shed).reduce((a, b) => a + b, 0);
  return {
    load,
    analyzedPerS: Math.round(analyzedPerS),
    busyAnalyzedPerS: Math.round((after.analyzed - first.analyzed) / Math.max(0.001, (after.at - first.at) / 1000)),
    shed,
    shedTotal: shedSum,
    received,
    accounted: received === analyzed + shedSum + rejected,
    rssMax: Math.max(...samples.map((s) => s.rss), after.rss),
    analyzedPerCpuS: Math.round(analyzed / Math.max(0.001, after.cpu - before.cpu)),
    lagP99Ms: Math.round(Math.max(...samples.slice(1).map((s) => s.lagP99)) * 10000) / 10,
    // Until the queue drained: publishing a batch's results is the listener's work too.
    listenerUsPerRequest:
      listenerCpuBefore === undefined || listenerCpuAfter === undefined
        ? undefined
        : Math.round(((listenerCpuAfter - listenerCpuBefore) * 1e6) / Math.max(1, received)),
  };
}

/** Starts bench/floor-listener.ts (the tsc build, like the server) in its own process. */
async function startFloor(): Promise<{
  pid: number | undefined;
  h1Port: number;
  h2cPort: number;
  stop: () => Promise<void>;
}> {
  const [h1Port, h2cPort] = [await freePort(), await freePort()];
  const entry = fileURLToPath(new URL('../dist/bench/floor-listener.js', import.meta.url));
  const child = spawn(process.execPath, [entry, String(h1Port), String(h2cPort)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('floor listener did not start')), 10000);
    child.stdout.once('data', () => {
      clearTimeout(t);
      resolve();
    });
    child.once('exit', () => reject(new Error('floor listener exited')));
  });
  return {
    pid: child.pid,
    h1Port,
    h2cPort,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);

function row(system: string, protocol: string, loadName: string, p: PhaseResult): Record<string, string | number> {
  const shedText = Object.entries(p.shed)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return {
    system,
    protocol,
    load: loadName,
    'offered req/s': p.load.offeredRate ?? 'max (closed loop)',
    'answered req/s': p.load.achievedRate,
    'analysed req/s': loadName.startsWith('closed') ? p.busyAnalyzedPerS : p.analyzedPerS,
    'analysed per CPU-s': p.analyzedPerCpuS,
    shed:
      p.shedTotal === 0
        ? '0'
        : `${p.shedTotal} (${Math.round((100 * p.shedTotal) / Math.max(1, p.received))}%; ${shedText})`,
    'p50 ms': p.load.p50Ms,
    'p99 ms': p.load.p99Ms,
    'server loop lag p99 ms': p.lagP99Ms,
    'listener CPU µs/request': p.listenerUsPerRequest ?? '',
    'unsent / late': p.load.offeredRate === null ? '' : `${p.load.unsent} / ${p.load.late}`,
    'generator CPU %': p.load.generatorCpuPct,
    'RSS MB': mb(p.rssMax),
    accounted: p.accounted ? `yes (${p.received} received)` : `NO (received ${p.received})`,
  };
}

export default async function benchLoad(): Promise<BenchReport> {
  const loadBefore = loadavg()[0]!;
  const rows: Array<Record<string, string | number>> = [];
  const notes: string[] = [];
  const capacity: Record<string, number> = {};
  const perCpu: Record<string, number> = {};
  let worstP99At5x = 0;
  let maxRss = 0;
  // The 5× phase's spec per protocol, replayed against the floor listener afterwards.
  const fiveX: Array<{ name: string; spec: LoadSpec }> = [];

  const server = await startServer();
  try {
    for (const protocol of ['h1', 'h2'] as const) {
      const port = protocol === 'h1' ? server.shadowPort : server.h2cPort;
      const base = { protocol, port, durationS: PHASE_S, host: HOST, ...MIX };
      // Warm-up, not reported: the first seconds after start (JIT, caches, the generator's own
      // start) would otherwise be charged to the capacity phase.
      await runLoad({ ...base, durationS: 2, connections: protocol === 'h1' ? 16 : 4, streamsPerSession: 8 });
      await drained(server.adminPort);
      const name = protocol === 'h1' ? 'HTTP/1.1' : 'h2c';
      // Open loop: each request goes out on any idle connection; one that falls due while all
      // are busy is counted as unsent. Enough connections (h2c: stream slots, 100 per session)
      // to keep offering the rate while answers take ~20 ms.
      const connectionsFor = (rate: number): number =>
        protocol === 'h1'
          ? Math.min(512, Math.max(8, Math.ceil(rate / 50)))
          : Math.min(32, Math.max(2, Math.ceil(rate / 1000)));
      // Closed loop, as fast as the listener answers: admission sheds the excess, but the
      // listener also spends CPU answering what it then sheds, so this understates capacity.
      const closed = await phase(
        server.adminPort,
        {
          ...base,
          connections: protocol === 'h1' ? 16 : 4,
          streamsPerSession: 8,
        },
        server.pid,
      );
      rows.push(row('shadowtap', name, 'closed loop (as fast as answered)', closed));
      maxRss = Math.max(maxRss, closed.rssMax);
      // Capacity: the highest offered rate analysed in full (≤ 1 % shed, ≤ 3 % unsent), searched in
      // open-loop steps of 12 % from the closed-loop rate: the throughput an operator can plan on.
      let rate = closed.busyAnalyzedPerS;
      let cap: PhaseResult | undefined;
      let capRate = 0;
      for (let step = 0; step < 8; step++) {
        const p = await phase(server.adminPort, { ...base, connections: connectionsFor(rate), rate }, server.pid);
        maxRss = Math.max(maxRss, p.rssMax);
        const full = p.shedTotal <= 0.01 * p.received && p.load.unsent <= 0.03 * rate * PHASE_S;
        if (full) {
          cap = p;
          capRate = rate;
          rate = Math.round(rate * 1.12);
        } else if (cap) {
          break;
        } else {
          rate = Math.round(rate * 0.85);
        }
      }
      if (!cap) throw new Error(`${name}: no offered rate was analysed in full`);
      capacity[protocol] = cap.analyzedPerS;
      perCpu[protocol] = cap.analyzedPerCpuS;
      rows.push(row('shadowtap', name, `capacity (${capRate} req/s offered, analysed in full)`, cap));
      for (const factor of [2, 5]) {
        const rate = Math.max(100, Math.round(capRate * factor));
        const spec: LoadSpec = { ...base, connections: connectionsFor(rate), rate };
        if (factor === 5) fiveX.push({ name, spec });
        const p = await phase(server.adminPort, spec, server.pid);
        rows.push(row('shadowtap', name, `${factor}× capacity`, p));
        maxRss = Math.max(maxRss, p.rssMax);
        if (factor === 5) worstP99At5x = Math.max(worstP99At5x, p.load.p99Ms);
        if (p.load.unsent > 0)
          notes.push(
            `${protocol} ${factor}×: ${p.load.unsent} of the offered requests fell due while every connection (h2c: every stream slot) waited for an answer, and were not sent; ${p.load.late} went out more than 2 ms late (the generator's own delay, at most ${p.load.maxLateMs} ms).`,
          );
      }
    }
  } finally {
    await server.stop();
  }

  // The floor: the same 5× load against a listener that only parses and answers.
  const floorP99: string[] = [];
  const floor = await startFloor();
  try {
    for (const { name, spec } of fiveX) {
      const port = spec.protocol === 'h1' ? floor.h1Port : floor.h2cPort;
      await runLoad({ ...spec, port, durationS: 2 });
      const cpuBefore = mainThreadCpuS(floor.pid);
      const load = await runLoad({ ...spec, port });
      const cpuAfter = mainThreadCpuS(floor.pid);
      floorP99.push(`${name} ${load.p99Ms} ms (${load.unsent} unsent)`);
      rows.push({
        system: 'floor: parse + 204, nothing else (bench/floor-listener.ts)',
        protocol: name,
        load: '5× capacity (same offered rate and connections)',
        'offered req/s': load.offeredRate ?? '',
        'answered req/s': load.achievedRate,
        'analysed req/s': '',
        'analysed per CPU-s': '',
        shed: '',
        'p50 ms': load.p50Ms,
        'p99 ms': load.p99Ms,
        'server loop lag p99 ms': '',
        'listener CPU µs/request':
          cpuBefore === undefined || cpuAfter === undefined
            ? ''
            : Math.round(((cpuAfter - cpuBefore) * 1e6) / Math.max(1, load.completed)),
        'unsent / late': `${load.unsent} / ${load.late}`,
        'generator CPU %': load.generatorCpuPct,
        'RSS MB': '',
        accounted: `${load.completed} answered`,
      });
    }
  } finally {
    await floor.stop();
  }

  const missing = modsecurityMissing();
  let modsecRate: number | null = null;
  let modsecPerCpu = 0;
  if (missing) {
    notes.push(`nginx + ModSecurity + CRS comparison skipped: ${missing}.`);
  } else {
    const modsec = await startModsecNginx({ workers: 2, engine: 'DetectionOnly' });
    try {
      // Best of three phases: the comparison must not flatter shadowtap with one unlucky run
      // of its rival (on this shared machine single phases varied from ~580 to ~890 req/s).
      let load: LoadResult | undefined;
      for (let run = 0; run < 3; run++) {
        const cpuBefore = modsec.cpuSeconds();
        const attempt = await runLoad({
          protocol: 'h1',
          port: modsec.port,
          durationS: PHASE_S,
          connections: 16,
          host: HOST,
          ...MIX,
        });
        const perCpuS = Math.round(attempt.completed / Math.max(0.001, modsec.cpuSeconds() - cpuBefore));
        if (!load || attempt.achievedRate > load.achievedRate) load = attempt;
        modsecPerCpu = Math.max(modsecPerCpu, perCpuS);
      }
      if (!load) throw new Error('no ModSecurity phase ran');
      modsecRate = load.achievedRate;
      const rss = modsec.rss();
      rows.push({
        system: `nginx + ModSecurity v3 + CRS ${crsVersion()} PL1`,
        protocol: 'HTTP/1.1',
        load: 'capacity (closed loop)',
        'offered req/s': 'max (closed loop)',
        'answered req/s': load.achievedRate,
        'analysed req/s': load.achievedRate,
        'analysed per CPU-s': modsecPerCpu,
        shed: '0 (inline: every request inspected)',
        'p50 ms': load.p50Ms,
        'p99 ms': load.p99Ms,
        'server loop lag p99 ms': '',
        'unsent / late': '',
        'generator CPU %': load.generatorCpuPct,
        'RSS MB': mb(rss),
        accounted: `${load.ok} × 2xx, ${modsec.matches()} rule matches logged`,
      });
    } finally {
      await modsec.stop();
    }
  }

  const summary = mixSummary(loadMix({ host: HOST, count: MIX.mixCount, seed: MIX.seed }));
  notes.push(
    `Mix (${MIX.mixCount} requests, seed ${MIX.seed}, cycled): ${Object.entries(summary)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; Host ${HOST}; bodies up to 12 KiB.`,
    `shadowtap: default config (workers = cores − 1 or all cores on 1–2 cores, batchSize 64, maxQueuedBytes 256 MiB) except admission.queueSize 1024${process.env.BENCH_SET ? ` and ${process.env.BENCH_SET}` : ''}, \`node bin/shadowtap.js serve\` (the tsc build, as shipped) in its own process, h2c load on the dedicated h2c port (shadow.h2cPort); load generator (bench/load-gen.ts: raw sockets, requests serialized once, HTTP/2 framing of its own for h2c) in another process. ${PHASE_S} s per phase.`,
    "Analysed req/s: shadowtap_analyzed_total delta; capacity rows from the first arrival until the queue drained (the pool busy throughout), overload rows over the window in which requests arrived. Overload rates are 2× and 5× the capacity measured for that protocol. p50/p99: response time of the shadow listener (204) seen by the generator, not corrected for coordinated omission; it includes the generator's own delays when the generator runs out of CPU. unsent / late (open loop): requests that fell due while every connection was busy (not sent, not retried) / sent more than 2 ms after due. Generator CPU %: the generator's user + system time over the phase, as a share of one core (the machine has two, shared with the server). Server loop lag p99: the worst 250 ms window of shadowtap's event-loop delay (nodejs_eventloop_lag_p99_seconds), the server-side part of that latency. Listener CPU µs/request: user + system time of shadowtap's main thread (the listener, admission and publishing; /proc, Linux) over the phase and its drain, per request received.",
    'accounted: /metrics received = analysed + shed (by reason) + rejected once the queue drained (received can exceed answered by the requests in flight when the generator stopped).',
    'nginx + ModSecurity: SecRuleEngine DetectionOnly (every rule evaluated, nothing blocked), CRS paranoia level 1, request body access on, audit log off, rule matches to the error log; 2 worker processes; a second server block returning 200 as the upstream; same mix and generator, 16 connections; the best of three phases is reported (req/s and per CPU-s each at their best).',
  );
  if (modsecRate !== null && capacity.h1) {
    const ratio = capacity.h1 / Math.max(1, modsecRate);
    const cpuRatio = (perCpu.h1 ?? 0) / Math.max(1, modsecPerCpu);
    notes.push(
      `Ratio (HTTP/1.1, analysed req/s): shadowtap ${capacity.h1} / ModSecurity ${modsecRate} = ${ratio.toFixed(1)}× — target ≥ 10×: ${ratio >= 10 ? 'met' : 'NOT met'}.`,
      `Ratio per CPU-second (robust to other load on the machine): shadowtap ${perCpu.h1} / ModSecurity ${modsecPerCpu} = ${cpuRatio.toFixed(1)}×. CPU: process_cpu_seconds_total of shadowtap (listener + workers), utime + stime of nginx's master and workers.`,
    );
  }
  notes.push(
    `Shadow listener p99 at 5× overload: ${worstP99At5x} ms (target < 5 ms: ${worstP99At5x < 5 ? 'met' : 'NOT met'}); max RSS ${mb(maxRss)} MB (target < 512 MB: ${mb(maxRss) < 512 ? 'met' : 'NOT met'}).`,
    `Floor at the same 5× rates (a listener that only parses and answers 204: no capture, no admission, no analysis, no worker threads; same generator and connections): p99 ${floorP99.join(', ')}. What the machine, its kernel and the generator allow at that rate; shadowtap's p99 above it is shadowtap's own.`,
  );
  // Other work on the machine steals CPU from every party: say how busy it was.
  notes.push(
    `Machine load average (1 min) at start ${loadBefore.toFixed(1)}, at end ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs.`,
  );
  return { name: 'Load: shadowtap vs nginx + ModSecurity + CRS', rows, notes };
}
