/**
 * What the HTTP/1.1 and h2c load generators share: the spec and result records, the latency
 * samples, and the driver loop (closed loop, or an open-loop schedule at a fixed rate).
 *
 * A protocol plugs in as a {@link Transport}: `trySend` puts one request of the mix on an
 * idle connection (or a session with a free stream) and says false when every one is busy.
 * The loop calls it whenever capacity frees up (a response completed, a connection came
 * back) and, in open loop, every millisecond: a request that falls due while nothing is
 * idle is counted as `unsent`, never queued, so the schedule never silently slips.
 */

export interface LoadSpec {
  protocol: 'h1' | 'h2';
  port: number;
  /** Target address (default 127.0.0.1). */
  address?: string;
  durationS: number;
  /** TCP connections (h1) or HTTP/2 sessions (h2). */
  connections: number;
  /** Offered requests/s over all connections; absent = closed loop, as fast as answered. */
  rate?: number;
  /** h2: streams in flight per session (closed loop: kept busy, default 16; open loop: the cap, default 100). */
  streamsPerSession?: number;
  /** Stop after this many requests were due (sent or unsent), even before durationS. */
  requests?: number;
  /** Host header of the mix. */
  host: string;
  seed: number;
  mixCount: number;
}

export interface LoadResult {
  protocol: 'h1' | 'h2';
  offeredRate: number | null;
  /** Length of the load window (from the first request until the last was due), s. */
  durationS: number;
  /** Requests written. */
  sent: number;
  /** Complete responses, any status. */
  completed: number;
  /** 2xx responses. */
  ok: number;
  /** Requests that got no complete response (reset, connection closed, unanswered) plus failed connects. */
  errors: number;
  /** Requests still unanswered when the generator gave up waiting (3 s after the window), part of errors. */
  unanswered: number;
  /** Open loop only: requests that fell due while every connection (h2: every stream slot) was busy. */
  unsent: number;
  /** Open loop only: requests sent more than 2 ms after they fell due (the generator itself was late). */
  late: number;
  /** Open loop only: the largest delay between a request falling due and being sent, ms. */
  maxLateMs: number;
  /** Connections opened again after the server closed one (not counted as errors by themselves). */
  reconnects: number;
  achievedRate: number;
  /** Response time from the moment the request was written until its response was complete, ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statuses: Record<string, number>;
  /** CPU time (user + system) the generator used over the window and the drain, s. */
  generatorCpuS: number;
  /** generatorCpuS as a share of one core over the same wall time, %. */
  generatorCpuPct: number;
}

/** What a transport reports back to the loop. */
export interface TransportHooks {
  /** A response completed: status and the hrtime at which its request was written. */
  response(status: number, sentAt: bigint): void;
  /** `n` requests in flight failed (reset, closed connection, protocol error). */
  failed(n: number): void;
  /** A connection attempt failed. */
  connectFailed(): void;
  /** A connection was opened again after the server closed one. */
  reconnected(): void;
  /** Capacity freed up: the loop may send. */
  idle(): void;
  /** False once the window is over: transports stop reconnecting. */
  running(): boolean;
}

export interface Transport {
  /** Sends request `mixIndex` if a connection can take it now; false when all are busy. */
  trySend(mixIndex: number): boolean;
  inFlight(): number;
  close(): void;
}

/** Starts the connections; resolves once each is ready or has failed its first attempt. */
export type TransportFactory = (hooks: TransportHooks) => Promise<Transport>;

/** How long a transport waits for its connections before the window starts without the missing ones. */
const CONNECT_WAIT_MS = 5000;

/** Waits for the connection attempts, at most CONNECT_WAIT_MS (a server that never answers must not hang the run). */
export async function settle(attempts: Array<Promise<void>>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(attempts),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECT_WAIT_MS))),
  ]);
  clearTimeout(timer);
}

/** Reconnect back-off after a connection that never answered: 20 ms, doubling, at most 1 s. */
function nextBackoff(previousMs: number): number {
  return Math.min(1000, Math.max(20, previousMs * 2));
}

/**
 * Reopens connection `slot` after it closed: at once when it had answered something, else
 * after a back-off (20 ms, doubling up to 1 s), so that a server refusing or dropping every
 * connection does not get a hot reconnect loop. `backoff` holds each slot's current delay.
 */
export function reopenLater(backoff: number[], slot: number, answered: number, reopen: () => void): void {
  backoff[slot] = answered > 0 ? 0 : nextBackoff(backoff[slot] ?? 0);
  if (backoff[slot] === 0) reopen();
  else setTimeout(reopen, backoff[slot]);
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
    if (this.n === 0) return { p50: NaN, p99: NaN, max: NaN };
    const sorted = this.data.slice(0, this.n).sort();
    const at = (q: number): number => sorted[Math.min(this.n - 1, Math.floor(q * this.n))]!;
    return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted[this.n - 1]!) };
  }
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

/** How long the loop waits for responses still in flight after the window. */
const DRAIN_MS = 3000;
/** A request sent more than this after it fell due counts as late (the scheduler ticks every ms). */
const LATE_NS = 2e6;

/** Runs one load phase in this process with the given transport. */
export async function drive(spec: LoadSpec, mixLength: number, connect: TransportFactory): Promise<LoadResult> {
  const samples = new Samples();
  const statuses: Record<string, number> = {};
  let ok = 0;
  let completed = 0;
  let errors = 0;
  let sent = 0;
  let unsent = 0;
  let late = 0;
  let maxLateNs = 0;
  let reconnects = 0;
  let next = 0;
  let running = true;
  let pumping = false;
  let start = 0n;
  let transport: Transport | null = null;

  const open = spec.rate !== undefined && spec.rate > 0;
  const intervalNs = open ? 1e9 / spec.rate! : 0;
  const windowNs = spec.durationS * 1e9;
  // Open loop: the number of requests due over the whole window (or the explicit count).
  const total = Math.min(spec.requests ?? Infinity, open ? Math.max(1, Math.floor(windowNs / intervalNs)) : Infinity);
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const stop = (): void => {
    if (!running) return;
    running = false;
    finish();
  };

  const nextIndex = (): number => {
    const i = next;
    next = next + 1 === mixLength ? 0 : next + 1;
    return i;
  };

  // Closed loop: fill every free slot. Open loop: send what is due, count what cannot go.
  const pump = (): void => {
    if (!running || pumping || !transport) return;
    pumping = true;
    try {
      if (!open) {
        while (sent < total && transport.trySend(next)) {
          nextIndex();
          sent++;
        }
        if (sent >= total) stop();
        return;
      }
      const elapsed = Number(process.hrtime.bigint() - start);
      const due = Math.min(total, Math.floor(elapsed / intervalNs) + 1);
      while (sent + unsent < due) {
        const lateNs = elapsed - (sent + unsent) * intervalNs;
        if (transport.trySend(next)) {
          sent++;
          if (lateNs > LATE_NS) late++;
          if (lateNs > maxLateNs) maxLateNs = lateNs;
        } else unsent++;
        nextIndex();
      }
      if (sent + unsent >= total) stop();
    } finally {
      pumping = false;
    }
  };

  const hooks: TransportHooks = {
    response(status, sentAt) {
      samples.add(Number(process.hrtime.bigint() - sentAt) / 1e6);
      statuses[status] = (statuses[status] ?? 0) + 1;
      completed++;
      if (status >= 200 && status < 300) ok++;
    },
    failed(n) {
      errors += n;
    },
    connectFailed() {
      errors++;
    },
    reconnected() {
      reconnects++;
    },
    idle: pump,
    running: () => running,
  };

  transport = await connect(hooks);
  // Start-up garbage (module compilation, the prepared mix) would otherwise be collected by
  // multi-millisecond scavenges inside the window; `runLoad` starts the child with --expose-gc.
  (globalThis as { gc?: () => void }).gc?.();
  const cpuBefore = process.cpuUsage();
  start = process.hrtime.bigint();
  // Open loop ends when the last request fell due (so sent + unsent = the schedule exactly);
  // closed loop when the window is over.
  const endTimer = open ? undefined : setTimeout(stop, spec.durationS * 1000);
  const ticker = open ? setInterval(pump, 1) : undefined;
  pump();
  await finished;
  const windowEnd = process.hrtime.bigint();
  if (endTimer) clearTimeout(endTimer);
  if (ticker) clearInterval(ticker);

  const drainUntil = Date.now() + DRAIN_MS;
  while (transport.inFlight() > 0 && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 2));
  const unanswered = transport.inFlight();
  transport.close();
  const cpu = process.cpuUsage(cpuBefore);
  const wallS = Number(process.hrtime.bigint() - start) / 1e9;
  const durationS = Number(windowEnd - start) / 1e9;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const { p50, p99, max } = samples.percentiles();
  return {
    protocol: spec.protocol,
    offeredRate: open ? spec.rate! : null,
    durationS: round(durationS),
    sent,
    completed,
    ok,
    errors: errors + unanswered,
    unanswered,
    unsent,
    late,
    maxLateMs: round(maxLateNs / 1e6),
    reconnects,
    achievedRate: Math.round(completed / Math.max(durationS, 0.001)),
    p50Ms: p50,
    p99Ms: p99,
    maxMs: max,
    statuses,
    generatorCpuS: round(cpuS),
    generatorCpuPct: Math.round((100 * cpuS) / Math.max(wallS, 0.001)),
  };
}
