/**
 * The load generator, run in its own process (`node --import tsx bench/load-gen.ts <spec>`)
 * so that it never shares an event loop with the server it measures. HTTP/1.1 load comes
 * from autocannon (its `requests` array carries the mix); h2c from a small node:http2
 * generator, since autocannon speaks HTTP/1.1 only. Prints one JSON LoadResult on stdout.
 *
 * Latencies are taken per response (autocannon's 'response' event, or hrtime around each h2
 * stream) in fractional milliseconds: autocannon's own histogram rounds to whole ms, too
 * coarse for a 5 ms target. Latency runs from when the request was written, so it is not
 * corrected for coordinated omission; with an offered rate the generator reports how many
 * requests it could not send on time instead.
 */
import { spawn } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadMix, type MixRequest } from './load-mix.js';

export interface LoadSpec {
  protocol: 'h1' | 'h2';
  port: number;
  durationS: number;
  /** TCP connections (h1) or HTTP/2 sessions (h2). */
  connections: number;
  /** Offered requests/s over all connections; absent = closed loop, as fast as answered. */
  rate?: number;
  /** h2 closed loop: concurrent streams per session. */
  streamsPerSession?: number;
  /** Host header of the mix. */
  host: string;
  seed: number;
  mixCount: number;
}

export interface LoadResult {
  protocol: 'h1' | 'h2';
  offeredRate: number | null;
  durationS: number;
  completed: number;
  ok: number;
  errors: number;
  /** Open loop only: requests due that the generator could not send (its own limit). */
  unsent: number;
  achievedRate: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statuses: Record<string, number>;
}

/** Response times in ms, kept in a growable Float64Array (millions of samples stay cheap). */
class Samples {
  private data = new Float64Array(1 << 16);
  private n = 0;
  add(v: number): void {
    if (this.n === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = v;
  }
  percentiles(): { p50: number; p99: number; max: number } {
    const sorted = this.data.slice(0, this.n).sort();
    const at = (q: number): number => (this.n === 0 ? NaN : sorted[Math.min(this.n - 1, Math.floor(q * this.n))]!);
    return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(this.n === 0 ? NaN : sorted[this.n - 1]!) };
  }
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

function runH1(spec: LoadSpec, mix: MixRequest[]): Promise<LoadResult> {
  const samples = new Samples();
  const statuses: Record<string, number> = {};
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${spec.port}`,
        connections: spec.connections,
        duration: spec.durationS,
        pipelining: 1,
        timeout: 10,
        ...(spec.rate ? { overallRate: spec.rate } : {}),
        requests: mix.map(({ method, path, headers, body }) => ({ method, path, headers, ...(body ? { body } : {}) })),
      },
      (err, result) => {
        if (err) return reject(err);
        const { p50, p99, max } = samples.percentiles();
        const completed = Object.values(statuses).reduce((a, b) => a + b, 0);
        resolve({
          protocol: 'h1',
          offeredRate: spec.rate ?? null,
          durationS: result.duration,
          completed,
          ok: result['2xx'],
          errors: result.errors + result.timeouts,
          // autocannon paces each connection: what it could not send shows as a lower rate.
          unsent: spec.rate ? Math.max(0, Math.round(spec.rate * result.duration) - result.requests.sent) : 0,
          achievedRate: Math.round(completed / result.duration),
          p50Ms: p50,
          p99Ms: p99,
          maxMs: max,
          statuses,
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      samples.add(responseTime);
    });
  });
}

async function runH2(spec: LoadSpec, mix: MixRequest[]): Promise<LoadResult> {
  const samples = new Samples();
  const statuses: Record<string, number> = {};
  let errors = 0;
  let inFlight = 0;
  let unsent = 0;
  let next = 0;
  const sessions = await Promise.all(
    Array.from(
      { length: spec.connections },
      () =>
        new Promise<http2.ClientHttp2Session>((resolve, reject) => {
          const s = http2.connect(`http://127.0.0.1:${spec.port}`);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  for (const s of sessions) s.on('error', () => errors++);
  const prepared = mix.map((r) => {
    const headers: http2.OutgoingHttpHeaders = {
      ':method': r.method,
      ':path': r.path,
      ':authority': r.headers.host ?? spec.host,
    };
    for (const [k, v] of Object.entries(r.headers)) if (k !== 'host') headers[k] = v;
    return { headers, body: r.body };
  });

  const send = (session: http2.ClientHttp2Session): Promise<void> =>
    new Promise((resolve) => {
      const r = prepared[next++ % prepared.length]!;
      const start = process.hrtime.bigint();
      inFlight++;
      const stream = session.request(r.headers);
      let status = 0;
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.resume();
      const done = (ok: boolean): void => {
        inFlight--;
        if (ok) {
          statuses[status] = (statuses[status] ?? 0) + 1;
          samples.add(Number(process.hrtime.bigint() - start) / 1e6);
        } else errors++;
        resolve();
      };
      stream.once('end', () => done(true));
      stream.once('error', () => done(false));
      stream.end(r.body);
    });

  const started = Date.now();
  const endAt = started + spec.durationS * 1000;
  if (spec.rate) {
    // Open loop: every tick, send what the schedule says is due, round robin over sessions.
    // In-flight streams are capped; what the cap holds back is counted as unsent.
    const cap = spec.connections * 200;
    let sent = 0;
    let rr = 0;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const now = Date.now();
        const due = Math.floor(((Math.min(now, endAt) - started) / 1000) * spec.rate!) - sent - unsent;
        for (let i = 0; i < due; i++) {
          if (inFlight >= cap) {
            unsent++;
            continue;
          }
          sent++;
          void send(sessions[rr++ % sessions.length]!);
        }
        if (now >= endAt) {
          clearInterval(tick);
          resolve();
        }
      }, 1);
    });
  } else {
    const perSession = spec.streamsPerSession ?? 16;
    await Promise.all(
      sessions.flatMap((s) =>
        Array.from({ length: perSession }, async () => {
          while (Date.now() < endAt) await send(s);
        }),
      ),
    );
  }
  const drainUntil = Date.now() + 3000;
  while (inFlight > 0 && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
  const durationS = (Date.now() - started) / 1000;
  for (const s of sessions) s.destroy();
  const { p50, p99, max } = samples.percentiles();
  const completed = Object.values(statuses).reduce((a, b) => a + b, 0);
  const ok = Object.entries(statuses).reduce((a, [k, v]) => a + (k.startsWith('2') ? v : 0), 0);
  return {
    protocol: 'h2',
    offeredRate: spec.rate ?? null,
    durationS: round(durationS),
    completed,
    ok,
    errors,
    unsent,
    achievedRate: Math.round(completed / spec.durationS),
    p50Ms: p50,
    p99Ms: p99,
    maxMs: max,
    statuses,
  };
}

/** Runs one load phase in a separate node process and returns its result. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const file = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadResult);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  const mix = loadMix({ host: spec.host, count: spec.mixCount, seed: spec.seed });
  const result = spec.protocol === 'h2' ? await runH2(spec, mix) : await runH1(spec, mix);
  process.stdout.write(JSON.stringify(result) + '\n');
}
