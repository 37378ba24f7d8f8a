/**
 * The error catalogue: every error shadowtap raises on purpose has a stable code
 * (`ST_ERR_*`, like fastify's `FST_ERR_*`), is built by a factory and is translated to
 * a gRPC status or HTTP status only at the edge that reports it.
 */

export interface ShadowtapError extends Error {
  readonly code: string;
  /** HTTP status to use when the error reaches an HTTP edge. */
  readonly statusCode: number;
}

export interface ErrorFactory<A extends unknown[]> {
  (...args: A): ShadowtapError;
  readonly code: string;
}

/** Defines an error factory with a stable code and a message template. */
export function createError<A extends unknown[]>(
  code: string,
  message: (...args: A) => string,
  statusCode = 500,
): ErrorFactory<A> {
  const factory = (...args: A): ShadowtapError => {
    const err = new Error(message(...args)) as Error & { code: string; statusCode: number };
    err.name = 'ShadowtapError';
    err.code = code;
    err.statusCode = statusCode;
    return err;
  };
  return Object.assign(factory, { code });
}

export function isShadowtapError(err: unknown): err is ShadowtapError {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ST_ERR_');
}

// --- configuration -------------------------------------------------------------------
export const ERR_CONFIG_INVALID = createError(
  'ST_ERR_CONFIG_INVALID',
  (details: string) => `invalid configuration:\n${details}`,
);
export const ERR_CONFIG_FILE = createError(
  'ST_ERR_CONFIG_FILE',
  (file: string, why: string) => `cannot read config file ${file}: ${why}`,
);

// --- ingest --------------------------------------------------------------------------
export const ERR_HTTP_MALFORMED = createError(
  'ST_ERR_HTTP_MALFORMED',
  (why: string) => `malformed HTTP request: ${why}`,
  400,
);
export const ERR_HTTP_HEADER_OVERFLOW = createError(
  'ST_ERR_HTTP_HEADER_OVERFLOW',
  (limit: number) => `request line and headers exceed ${limit} bytes (shadow.maxHeaderBytes)`,
  431,
);
export const ERR_REPLAY_INPUT = createError(
  'ST_ERR_REPLAY_INPUT',
  (file: string, line: number, why: string) => `${file}:${line}: ${why}`,
  400,
);

// --- admission / pool ------------------------------------------------------------------
export const ERR_SHED = createError('ST_ERR_SHED', (reason: string) => `exchange shed: ${reason}`, 503);
export const ERR_CLOSED = createError('ST_ERR_CLOSED', (what: string) => `${what} is closed`, 503);
export const ERR_CLOSE_TIMEOUT = createError(
  'ST_ERR_CLOSE_TIMEOUT',
  (what: string, ms: number) => `${what} did not close within ${ms} ms`,
);

// --- decode ----------------------------------------------------------------------------
export const ERR_DECODE_LIMIT = createError(
  'ST_ERR_DECODE_LIMIT',
  (limit: string, detail: string) => `decode limit ${limit} reached: ${detail}`,
  413,
);

// --- detection API -------------------------------------------------------------------
export const ERR_UNAUTHENTICATED = createError(
  'ST_ERR_UNAUTHENTICATED',
  (why: string) => `unauthenticated: ${why}`,
  401,
);
export const ERR_INVALID_ARGUMENT = createError(
  'ST_ERR_INVALID_ARGUMENT',
  (why: string) => `invalid argument: ${why}`,
  400,
);
export const ERR_SLOW_CONSUMER = createError(
  'ST_ERR_SLOW_CONSUMER',
  (limit: number) => `subscriber fell more than ${limit} detections behind`,
  429,
);

export const ERR_TOO_MANY_SUBSCRIBERS = createError(
  'ST_ERR_TOO_MANY_SUBSCRIBERS',
  (limit: number) => `too many subscribers (grpc.maxSubscribers is ${limit})`,
  429,
);
export const ERR_HUB_LOG = createError(
  'ST_ERR_HUB_LOG',
  (dir: string, why: string) => `hub segment log ${dir}: ${why}`,
);

// --- envoy config ----------------------------------------------------------------------
export const ERR_ENVOY_INVALID = createError(
  'ST_ERR_ENVOY_INVALID',
  (details: string) => `Envoy configuration is invalid:\n${details}`,
  400,
);

// --- reporter --------------------------------------------------------------------------
export const ERR_SINK_FAILED = createError(
  'ST_ERR_SINK_FAILED',
  (sink: string, why: string) => `sink ${sink}: delivery failed: ${why}`,
  502,
);
export const ERR_SINK_REJECTED = createError(
  'ST_ERR_SINK_REJECTED',
  (sink: string, why: string) => `sink ${sink}: batch rejected permanently: ${why}`,
  502,
);
export const ERR_SINK_CONFIG = createError(
  'ST_ERR_SINK_CONFIG',
  (sink: string, why: string) => `sink ${sink}: invalid configuration: ${why}`,
);

// --- ext_proc ----------------------------------------------------------------------------
export const ERR_EXTPROC_MALFORMED = createError(
  'ST_ERR_EXTPROC_MALFORMED',
  (why: string) => `malformed ext_proc message: ${why}`,
  400,
);
export const ERR_EXTPROC_OUT_OF_ORDER = createError(
  'ST_ERR_EXTPROC_OUT_OF_ORDER',
  (why: string) => `ext_proc message out of order: ${why}`,
  400,
);
export const ERR_EXTPROC_TOO_MANY_STREAMS = createError(
  'ST_ERR_EXTPROC_TOO_MANY_STREAMS',
  (limit: number) => `more than ${limit} concurrent ext_proc streams (extProc.maxStreams)`,
  503,
);
export const ERR_EXTPROC_IDLE = createError(
  'ST_ERR_EXTPROC_IDLE',
  (ms: number) => `ext_proc stream idle for ${ms} ms (extProc.streamIdleTimeoutMs)`,
  408,
);
