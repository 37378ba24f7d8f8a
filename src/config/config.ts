import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ERR_CONFIG_FILE, ERR_CONFIG_INVALID } from '../core/errors.js';

/*
 * Options → defaults → validated, frozen config. Validated once at start; nothing reads
 * process.env after loadConfig returns. Precedence: defaults < YAML file < env < flags.
 */

const port = z.number().int().min(0).max(65535);
const host = z.string().min(1);
const positiveInt = z.number().int().positive();
const severity = z.enum(['info', 'low', 'medium', 'high', 'critical']);

const exclusionSchema = z.strictObject({
  /** Host (exact, case-insensitive, port ignored); omitted = any host. */
  host: z.string().optional(),
  /** Path prefix; omitted = any path. */
  pathPrefix: z.string().optional(),
  /** Location (exact, or prefix when it ends with `*`); omitted = any location. */
  location: z.string().optional(),
  /** Rule id (exact, or prefix when it ends with `*`); omitted = any rule. */
  ruleId: z.string().optional(),
});

export const limitsSchema = z.strictObject({
  /** Request body bytes kept for analysis; the rest is read and discarded. */
  maxBodyBytes: positiveInt.default(1024 * 1024),
  /** Bytes a compressed body may expand to. */
  maxDecompressedBytes: positiveInt.default(8 * 1024 * 1024),
  /** Maximum decompressed/compressed ratio before the body is cut (zip bombs). */
  maxDecompressionRatio: positiveInt.default(100),
  /** Nesting depth of JSON / XML / query structures. */
  maxDepth: positiveInt.default(64),
  /** Points produced for one request. */
  maxPoints: positiveInt.default(4096),
  /** Recursion depth of nested decodings (url → base64 → json …). */
  maxDecodeDepth: positiveInt.default(4),
  /** Multipart parts analysed. */
  maxMultipartParts: positiveInt.default(256),
  /** Header lines analysed. */
  maxHeaderCount: positiveInt.default(200),
  /** Bytes of one value handed to detectors. */
  maxValueBytes: positiveInt.default(64 * 1024),
  /**
   * Time budget for decode + detect of one request, ms (wall clock in the worker thread:
   * Node 20 has no per-thread CPU clock). Generous on purpose: decode limits bound the work,
   * this only stops a runaway; a cut request is flagged with a 'budget_exceeded' anomaly.
   */
  budgetMs: z.number().positive().default(100),
  /** Anomalies recorded for one request (each code+location once). */
  maxAnomalies: positiveInt.default(64),
  /** Bytes of an uploaded file's content analysed (text files only). */
  maxPartSampleBytes: positiveInt.default(4096),
  /** Tokens of one GraphQL document parsed (graphql-js maxTokens). */
  maxGraphqlTokens: positiveInt.default(10000),
});

export const analysisSchema = z.strictObject({
  sensitivity: z.enum(['low', 'default', 'high']).default('default'),
  limits: limitsSchema.prefault({}),
  exclusions: z.array(exclusionSchema).default([]),
  /** Detector ids to turn off entirely. */
  disabledDetectors: z.array(z.string()).default([]),
  /** Per-worker cache of recent point results (repeated headers and parameters skip the detectors); 0 disables. */
  pointCacheSize: z.number().int().min(0).max(1_000_000).default(8192),
  /** Response-side detection (ext_proc exchanges that carry a response). */
  response: z
    .strictObject({
      /** National id formats reported as PII in responses (card numbers are always checked). */
      nationalIds: z.array(z.enum(['us_ssn', 'uk_nino', 'fr_nir', 'es_dni', 'it_cf'])).default([]),
      /** Response text bytes inspected after decompression. */
      maxTextBytes: positiveInt.default(256 * 1024),
    })
    .prefault({}),
});

const tlsSchema = z.strictObject({
  certFile: z.string().min(1),
  keyFile: z.string().min(1),
  /** CA bundle to verify client certificates; with requireClientCert this is mTLS. */
  caFile: z.string().optional(),
  requireClientCert: z.boolean().default(false),
});

const sinkSchema = z.strictObject({
  /** Unique; also the name of the sink's spool subdirectory (`<spool.dir>/<name>/`). */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'use 1-64 of A-Z a-z 0-9 . _ - (a directory name)'),
  type: z.enum(['http', 'syslog']),
  /** http: URL; syslog: udp://host:port, tcp://host:port or tls://host:port */
  url: z.string().min(1),
  /** http body format. */
  format: z.enum(['ndjson', 'json', 'splunk-hec', 'elastic-bulk', 'loki']).default('ndjson'),
  headers: z.record(z.string(), z.string()).default({}),
  gzip: z.boolean().default(false),
  timeoutMs: positiveInt.default(5000),
  errorThresholdPercentage: z.number().min(1).max(100).default(50),
  resetTimeoutMs: positiveInt.default(10000),
  volumeThreshold: z.number().int().min(0).default(3),
  caFile: z.string().optional(),
  /** Wait before retrying a failed batch while the breaker stays closed, ms. */
  retryDelayMs: positiveInt.default(1000),
  /** elastic-bulk: target index; splunk-hec: index field (omitted = the token's default). */
  index: z.string().min(1).optional(),
  /** syslog: RFC 5424 APP-NAME. */
  appName: z
    .string()
    .regex(/^[!-~]{1,48}$/, '1-48 printable ASCII characters')
    .default('shadowtap'),
  /** syslog: facility 0..23 (16 = local0). */
  facility: z.number().int().min(0).max(23).default(16),
});

export const configSchema = z.strictObject({
  log: z
    .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
    .default({ level: 'info' }),
  shadow: z
    .strictObject({
      host: host.default('0.0.0.0'),
      port: port.default(8080),
      /**
       * Dedicated h2c (HTTP/2 prior knowledge) port, the fast path for HTTP/2 mirrors: sockets
       * go straight to the HTTP/2 session, no protocol peek. `false` disables it; the shared
       * port keeps serving h2c either way. 8081 is next to shadow.port and clear of grpc/admin.
       */
      h2cPort: z
        .union([port, z.literal(false)], { error: 'expected a port 0-65535, or false to disable' })
        .default(8081),
      /** Idle socket timeout, ms. Envoy keeps shadow connections pooled. */
      idleTimeoutMs: positiveInt.default(60000),
      /** Time allowed to receive one whole request, ms (slowloris guard). */
      requestTimeoutMs: positiveInt.default(30000),
      /** Max bytes of an HTTP/1.1 request line plus headers (431 beyond), and of an HTTP/2 header list. */
      maxHeaderBytes: positiveInt.default(64 * 1024),
      /** Concurrent connections accepted, both ports together; more are closed at once and counted. */
      maxConnections: positiveInt.default(10000),
      /** X-Forwarded-For entries to skip from the right (Envoy's xff_num_trusted_hops). */
      xffTrustedHops: z.number().int().min(0).max(16).default(0),
      /** Status answered to the mirror (Envoy ignores it; 204 keeps it small). */
      responseStatus: z.number().int().min(200).max(599).default(204),
    })
    .refine((s) => s.h2cPort === false || s.h2cPort === 0 || s.h2cPort !== s.port, {
      message: 'must differ from shadow.port (the shared port already serves h2c; false disables this one)',
      path: ['h2cPort'],
    })
    .prefault({}),
  grpc: z
    .strictObject({
      /** Loopback by default: detections are sensitive; expose with a token or mTLS. */
      host: host.default('127.0.0.1'),
      port: port.default(50051),
      tls: tlsSchema.optional(),
      /** Bearer token required by DetectionService when set. */
      authToken: z.string().min(16, 'use at least 16 characters').optional(),
      /** Operator opt-in to serve DetectionService on a non-loopback host with neither token nor mTLS. */
      allowUnauthenticated: z.boolean().default(false),
      maxSubscribers: positiveInt.default(256),
    })
    .prefault({}),
  admin: z.strictObject({ host: host.default('127.0.0.1'), port: port.default(9090) }).prefault({}),
  admission: z
    .strictObject({
      /** Exchanges waiting for a worker; past this they are shed ('queue_full'). */
      queueSize: positiveInt.default(4096),
      /** Body bytes held by queued exchanges; past this they are shed ('queue_full'). */
      maxQueuedBytes: positiveInt.default(256 * 1024 * 1024),
      /** Worker threads; 0 = cores - 1, or every core on a 1-2 core machine (detect-pool.ts). */
      workers: z.number().int().min(0).max(64).default(0),
      /** Exchanges sent to a worker in one task (amortises per-task overhead). */
      batchSize: positiveInt.max(1024).default(64),
      /** Max time an exchange waits for its batch to fill, ms. */
      batchWindowMs: z.number().min(0).max(1000).default(2),
      /**
       * Keep 1 in N when the queue is more than 3/4 full (requests with a cheap suspicious signal
       * are always kept while there is room); 1 = no sampling, tail-drop only.
       */
      overloadSampleRate: positiveInt.default(1),
      /**
       * Scheduling niceness of the detection worker threads (Linux; 0 = same as the listener).
       * Raised, the listener wins the CPU over detection when cores are contended and admission
       * sheds instead; but the workers then also yield to every other process on the host,
       * which on a busy shared host starves analysis (see docs/benchmark.md). Opt-in.
       */
      workerNice: z.number().int().min(0).max(19).default(0),
      /**
       * While admission sheds and the listener's event loop is saturated (≥ 90 % busy over
       * 100 ms), detection runs on one thread fewer, so that the listener keeps a core to
       * answer the mirror with; every thread again once shedding stops or the loop is < 50 %
       * busy. Analysis under overload drops by up to one thread's share; answers stay fast.
       * No effect with a single worker thread.
       */
      yieldToListener: z.boolean().default(true),
      /**
       * Young-generation cap of each detection worker's V8 heap, MB. Under load V8 grows it to
       * 48 MB per worker; 16 held the benchmark's RSS about 50 MB lower at the same analysed
       * rate (docs/benchmark.md).
       */
      workerYoungGenerationMb: z.number().int().min(4).max(256).default(16),
    })
    .prefault({}),
  analysis: analysisSchema.prefault({}),
  hub: z
    .strictObject({
      /** Detections kept in memory for resume and ListDetections. */
      historySize: positiveInt.default(10000),
      /** Detections buffered per subscriber before the slow-consumer policy applies. */
      subscriberQueue: positiveInt.default(1000),
      slowConsumer: z.enum(['drop-oldest', 'disconnect']).default('drop-oldest'),
      /** Directory of an on-disk segment log for resume across restarts (optional). */
      logDir: z.string().optional(),
      /** Size at which the segment log starts a new segment file. */
      logSegmentBytes: positiveInt.default(4 * 1024 * 1024),
      /** Bytes the segment log may keep on disk; oldest segments are deleted past it. */
      logMaxBytes: positiveInt.default(256 * 1024 * 1024),
    })
    .prefault({}),
  redaction: z
    .strictObject({
      /** Operator opt-in to emit secrets unredacted. */
      revealSecrets: z.boolean().default(false),
      /** Extra header names to redact (case-insensitive). */
      headers: z.array(z.string()).default([]),
      /** Extra parameter/JSON key names to redact (case-insensitive). */
      params: z.array(z.string()).default([]),
      /** Max characters of a fragment emitted. */
      maxFragmentChars: positiveInt.default(256),
    })
    .prefault({}),
  reporter: z
    .strictObject({
      sinks: z.array(sinkSchema).default([]),
      batchSize: positiveInt.default(500),
      flushIntervalMs: positiveInt.default(1000),
      /** Detections buffered in memory before batches go to the spool. */
      maxBuffered: positiveInt.default(10000),
      spool: z
        .strictObject({
          dir: z.string().default('.spool'),
          maxBytes: positiveInt.default(256 * 1024 * 1024),
          segmentBytes: positiveInt.default(8 * 1024 * 1024),
          fsync: z.enum(['always', 'interval', 'never']).default('interval'),
          fsyncIntervalMs: positiveInt.default(1000),
          whenFull: z.enum(['drop-oldest', 'drop-newest']).default('drop-oldest'),
          replayBatchesPerSecond: positiveInt.default(20),
        })
        .prefault({}),
    })
    .prefault({}),
  extProc: z
    .strictObject({
      /** Answer deadline in inline mode, ms; must stay under Envoy's message_timeout. */
      inlineDeadlineMs: positiveInt.default(100),
      blocking: z
        .strictObject({
          enabled: z.boolean().default(false),
          minSeverity: severity.default('critical'),
          /** Only these hosts (empty = all). */
          hosts: z.array(z.string()).default([]),
          /** Only these path prefixes (empty = all). */
          pathPrefixes: z.array(z.string()).default([]),
          /** HTTP status of the immediate_response sent to the client. */
          status: z.number().int().min(400).max(599).default(403),
        })
        .prefault({}),
      /** Response body bytes kept for response-side detection. */
      maxResponseBodyBytes: positiveInt.default(256 * 1024),
      /** Concurrent Process streams; more are refused with RESOURCE_EXHAUSTED and counted. */
      maxStreams: positiveInt.default(10000),
      /** A stream with no message for this long is closed (what it carried is still analysed), ms. */
      streamIdleTimeoutMs: positiveInt.default(300000),
    })
    .prefault({}),
  shutdownTimeoutMs: positiveInt.default(10000),
});

export type Config = z.output<typeof configSchema>;
export type Options = z.input<typeof configSchema>;
export type AnalysisConfig = Config['analysis'];
export type Limits = AnalysisConfig['limits'];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const key = i.path.join('.') || '(root)';
      return `  - ${key}: ${i.message}`;
    })
    .join('\n');
}

/** Validates options into a frozen Config, throwing ST_ERR_CONFIG_INVALID that names each key. */
export function resolveConfig(options: Options = {}): Config {
  const parsed = configSchema.safeParse(options);
  if (!parsed.success) throw ERR_CONFIG_INVALID(formatIssues(parsed.error));
  return deepFreeze(parsed.data);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merges b over a (objects merge, everything else replaces). */
export function mergeOptions(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeOptions(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/** Sets `a.b.c` = value inside obj. */
export function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(cur[key])) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

const camelToSnake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** Parses a string from env/flags the way a YAML scalar would be read (numbers, booleans, JSON). */
function parseScalar(raw: string): unknown {
  const trimmed = raw.trim();
  if (trimmed === '') return raw;
  try {
    return parseYaml(trimmed) as unknown;
  } catch {
    return raw;
  }
}

/**
 * Every leaf key of the default config, with its env var name:
 * shadow.port → SHADOWTAP_SHADOW_PORT, analysis.limits.maxBodyBytes → SHADOWTAP_ANALYSIS_LIMITS_MAX_BODY_BYTES.
 */
export function envKeys(): Array<{ path: string[]; env: string }> {
  const out: Array<{ path: string[]; env: string }> = [];
  const walk = (obj: Record<string, unknown>, path: string[]): void => {
    for (const [k, v] of Object.entries(obj)) {
      const p = [...path, k];
      if (isPlainObject(v)) walk(v, p);
      else out.push({ path: p, env: `SHADOWTAP_${p.map(camelToSnake).join('_')}` });
    }
  };
  walk(configSchema.parse({}) as Record<string, unknown>, []);
  // Optional keys that have no default but are commonly set from the environment.
  out.push({ path: ['grpc', 'authToken'], env: 'SHADOWTAP_GRPC_AUTH_TOKEN' });
  return out;
}

export interface LoadConfigInput {
  /** YAML (or JSON) config file. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Flat overrides by dotted key, e.g. { 'shadow.port': 8081 } (from CLI flags). */
  overrides?: Record<string, unknown>;
}

/** Loads defaults < file < env < overrides and validates once. */
export function loadConfig(input: LoadConfigInput = {}): Config {
  let options: Record<string, unknown> = {};
  if (input.file) {
    let text: string;
    try {
      text = readFileSync(input.file, 'utf8');
    } catch (err) {
      throw ERR_CONFIG_FILE(input.file, (err as Error).message);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw ERR_CONFIG_FILE(input.file, (err as Error).message);
    }
    if (doc != null && !isPlainObject(doc)) throw ERR_CONFIG_FILE(input.file, 'top level must be a mapping');
    options = (doc as Record<string, unknown> | null) ?? {};
  }
  const env = input.env ?? {};
  const fromEnv: Record<string, unknown> = {};
  for (const { path, env: name } of envKeys()) {
    const raw = env[name];
    if (raw !== undefined) setPath(fromEnv, path, parseScalar(raw));
  }
  options = mergeOptions(options, fromEnv);
  const fromFlags: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input.overrides ?? {})) {
    setPath(fromFlags, key.split('.'), typeof value === 'string' ? parseScalar(value) : value);
  }
  options = mergeOptions(options, fromFlags);
  return resolveConfig(options as Options);
}
