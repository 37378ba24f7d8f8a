import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Detection, Severity, Source } from '../gen/shadowtap/v1/detection.js';
import {
  DetectionServiceClient,
  type Filter,
  type GetStatsResponse,
  type SubscribeResponse,
} from '../gen/shadowtap/v1/detection_service.js';
import type { CliIo } from './cli-io.js';

export const TAIL_HELP = `Usage: shadowtap tail [options]

Subscribes to a running shadowtap's DetectionService and prints detections, one per line.
Gap markers (detections that were evicted or dropped for a slow reader) go to stderr.
On a lost connection it reconnects with exponential backoff and jitter, resuming after the
last sequence it saw, so nothing retained is lost or printed twice.

Options:
      --addr HOST:PORT       gRPC address (default 127.0.0.1:50051)
      --json                 print JSON lines (the Detection message in proto3 JSON)
      --resume SEQ           first replay every retained detection after sequence SEQ (≥ 1;
                             0 or omitted: start from the newest, live only)
Filters (repeatable ones keep a detection matching any value):
      --min-severity S       info | low | medium | high | critical
      --type T               attack type to keep, e.g. sqli (alias --filter-type; repeatable)
      --host H               host to keep, port optional (repeatable)
      --path-prefix P        path prefix to keep (repeatable)
      --source S             mirror | ext_proc | replay (repeatable)
Security:
      --tls                  use TLS (implied by --ca, --cert, --key)
      --ca FILE              CA bundle to verify the server (default: system roots)
      --cert FILE            client certificate for mTLS (with --key)
      --key FILE             client private key for mTLS (with --cert)
      --server-name NAME     expected name in the server certificate (default: the host of --addr)
      --token TOKEN          bearer token (default: $SHADOWTAP_TOKEN)
Reconnection:
      --max-retries N        give up after N consecutive failed attempts (default: never)
      --max-backoff-ms N     cap of the reconnect delay (default 30000)
  -h, --help                 show this help
`;

const SEVERITY_BY_NAME: Readonly<Record<string, Severity>> = {
  info: Severity.SEVERITY_INFO,
  low: Severity.SEVERITY_LOW,
  medium: Severity.SEVERITY_MEDIUM,
  high: Severity.SEVERITY_HIGH,
  critical: Severity.SEVERITY_CRITICAL,
};

const SOURCE_BY_NAME: Readonly<Record<string, Source>> = {
  mirror: Source.SOURCE_MIRROR,
  ext_proc: Source.SOURCE_EXT_PROC,
  replay: Source.SOURCE_REPLAY,
};

const SEVERITY_NAME = Object.fromEntries(Object.entries(SEVERITY_BY_NAME).map(([k, v]) => [v, k]));

/** Failures that a retry cannot fix: report and exit instead of reconnecting. */
const FATAL = new Set<number>([
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
  status.INVALID_ARGUMENT,
  status.UNIMPLEMENTED,
]);

const BACKOFF_BASE_MS = 250;

/** One human-readable line per detection. */
export function formatDetection(d: Detection): string {
  const time = new Date(d.timeUnixMs).toISOString();
  const chain = d.chain.length > 0 ? ` via ${d.chain.join('→')}` : '';
  return `${time} #${d.sequence} ${(SEVERITY_NAME[d.severity] ?? '?').toUpperCase()} ${d.attackType} ${d.ruleId} ${d.clientIp} ${d.method} ${d.host}${d.path} at ${d.location}${chain}: ${JSON.stringify(d.fragment)} (${d.reason})`;
}

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential backoff with "equal jitter",
 * uniformly random in [cap/2, cap] with cap = min(maxMs, base·2^(attempt-1)), so that many
 * tails cut by one restart do not reconnect in lock-step and the delay stays bounded.
 */
export function backoffDelay(attempt: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, BACKOFF_BASE_MS * 2 ** Math.min(attempt - 1, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** Options for embedding `tail` (tests); the CLI stops it with SIGINT/SIGTERM. */
export interface TailOptions {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

class UsageError extends Error {}

function readFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${(err as Error).message}`);
  }
}

function nonNegativeInt(flag: string, raw: string | undefined, fallback: number | undefined): number | undefined {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} must be a non-negative integer`);
  return n;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

type Outcome = { kind: 'aborted' } | { kind: 'ended' } | { kind: 'failed'; err: ServiceError };

export async function runTail(argv: string[], io: CliIo, opts: TailOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      addr: { type: 'string', default: '127.0.0.1:50051' },
      json: { type: 'boolean', default: false },
      resume: { type: 'string' },
      'min-severity': { type: 'string' },
      type: { type: 'string', multiple: true },
      'filter-type': { type: 'string', multiple: true },
      host: { type: 'string', multiple: true },
      'path-prefix': { type: 'string', multiple: true },
      source: { type: 'string', multiple: true },
      tls: { type: 'boolean', default: false },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'server-name': { type: 'string' },
      token: { type: 'string' },
      'max-retries': { type: 'string' },
      'max-backoff-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout(TAIL_HELP);
    return 0;
  }

  let filter: Filter;
  let channelCredentials: ChannelCredentials;
  let resume: number;
  let maxRetries: number | undefined;
  let maxBackoffMs: number;
  try {
    const minSeverityName = values['min-severity'];
    const minSeverity =
      minSeverityName === undefined ? Severity.SEVERITY_UNSPECIFIED : SEVERITY_BY_NAME[minSeverityName.toLowerCase()];
    if (minSeverity === undefined) {
      throw new UsageError(`--min-severity must be one of ${Object.keys(SEVERITY_BY_NAME).join(', ')}`);
    }
    const sources = (values.source ?? []).map((s) => {
      const source = SOURCE_BY_NAME[s.toLowerCase()];
      if (source === undefined)
        throw new UsageError(`--source must be one of ${Object.keys(SOURCE_BY_NAME).join(', ')}`);
      return source;
    });
    filter = {
      minSeverity,
      attackTypes: [...(values.type ?? []), ...(values['filter-type'] ?? [])],
      hosts: values.host ?? [],
      pathPrefixes: values['path-prefix'] ?? [],
      sources,
    };
    resume = nonNegativeInt('--resume', values.resume, 0)!;
    maxRetries = nonNegativeInt('--max-retries', values['max-retries'], undefined);
    maxBackoffMs = Math.max(BACKOFF_BASE_MS, nonNegativeInt('--max-backoff-ms', values['max-backoff-ms'], 30000)!);
    if ((values.cert === undefined) !== (values.key === undefined))
      throw new UsageError('--cert and --key go together');
    const useTls = values.tls || values.ca !== undefined || values.cert !== undefined;
    channelCredentials = useTls
      ? credentials.createSsl(
          values.ca === undefined ? null : readFile('--ca', values.ca),
          values.key === undefined ? null : readFile('--key', values.key),
          values.cert === undefined ? null : readFile('--cert', values.cert),
        )
      : credentials.createInsecure();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`shadowtap tail: ${err.message}\n`);
    return 2;
  }

  const token = values.token ?? (opts.env ?? process.env).SHADOWTAP_TOKEN;
  const metadata = new Metadata();
  if (token !== undefined && token !== '') metadata.set('authorization', `Bearer ${token}`);

  const client = new DetectionServiceClient(
    values.addr,
    channelCredentials,
    values['server-name'] === undefined ? {} : { 'grpc.ssl_target_name_override': values['server-name'] },
  );

  let signal = opts.signal;
  let removeSignalHandlers = (): void => undefined;
  if (signal === undefined) {
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    removeSignalHandlers = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
    signal = controller.signal;
  }

  // Resume key: the last sequence this tail has accounted for (printed, or announced missing).
  let last = resume;
  let received = false;
  const onEvent = (msg: SubscribeResponse): void => {
    received = true;
    if (msg.event?.$case === 'detection') {
      const d = msg.event.value;
      last = d.sequence;
      io.stdout(values.json ? `${JSON.stringify(Detection.toJSON(d))}\n` : `${formatDetection(d)}\n`);
    } else if (msg.event?.$case === 'gap') {
      const g = msg.event.value;
      if (g.reason === 'reset') {
        io.stderr('shadowtap tail: the server restarted its sequence numbering; replaying its retained history\n');
        last = g.toSequence;
      } else {
        io.stderr(`shadowtap tail: missed detections ${g.fromSequence}..${g.toSequence} (${g.reason})\n`);
        last = Math.max(last, g.toSequence);
      }
    }
  };

  /** Without --resume, start from the server's newest sequence so a reconnect misses nothing. */
  const startingPoint = (): Promise<number | ServiceError> =>
    new Promise((resolve) =>
      client.getStats({}, metadata, (err: ServiceError | null, res?: GetStatsResponse) =>
        resolve(err ?? res!.lastSequence),
      ),
    );

  const streamOnce = (signal: AbortSignal): Promise<Outcome> =>
    new Promise<Outcome>((resolve) => {
      const call = client.subscribe({ filter, resumeAfterSequence: last }, metadata);
      const abort = (): void => call.cancel();
      signal.addEventListener('abort', abort);
      const finish = (o: Outcome): void => {
        signal.removeEventListener('abort', abort);
        resolve(o);
      };
      call.on('data', onEvent);
      call.on('error', (err: ServiceError) => finish(signal.aborted ? { kind: 'aborted' } : { kind: 'failed', err }));
      call.on('end', () => finish(signal.aborted ? { kind: 'aborted' } : { kind: 'ended' }));
    });

  try {
    let attempt = 0;
    let needStart = values.resume === undefined;
    while (!signal.aborted) {
      let outcome: Outcome;
      if (needStart) {
        const start = await startingPoint();
        if (typeof start === 'number') {
          last = start;
          needStart = false;
          outcome = await streamOnce(signal);
        } else {
          outcome = signal.aborted ? { kind: 'aborted' } : { kind: 'failed', err: start };
        }
      } else {
        outcome = await streamOnce(signal);
      }
      if (outcome.kind === 'aborted' || signal.aborted) return 0;
      if (outcome.kind === 'failed' && FATAL.has(outcome.err.code)) {
        io.stderr(`shadowtap tail: ${outcome.err.details || outcome.err.message}\n`);
        return 1;
      }
      if (received) attempt = 0;
      received = false;
      attempt++;
      if (maxRetries !== undefined && attempt > maxRetries) {
        const why = outcome.kind === 'failed' ? outcome.err.details || outcome.err.message : 'stream ended';
        io.stderr(`shadowtap tail: ${why}; giving up after ${maxRetries} retries\n`);
        return 1;
      }
      const delay = backoffDelay(attempt, maxBackoffMs);
      const why = outcome.kind === 'failed' ? outcome.err.details || outcome.err.message : 'server ended the stream';
      const from = needStart ? 'starting from the newest' : `resuming after #${last}`;
      io.stderr(`shadowtap tail: ${why}; reconnecting in ${delay} ms (${from})\n`);
      await sleep(delay, signal);
    }
    return 0;
  } finally {
    removeSignalHandlers();
    client.close();
  }
}
