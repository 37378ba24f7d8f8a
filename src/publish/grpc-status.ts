import { status, type ServiceError, Metadata } from '@grpc/grpc-js';
import { isShadowtapError } from '../core/errors.js';

/** The error catalogue meets gRPC here, and only here. */
const BY_CODE: Readonly<Record<string, status>> = {
  ST_ERR_UNAUTHENTICATED: status.UNAUTHENTICATED,
  ST_ERR_INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  ST_ERR_SLOW_CONSUMER: status.RESOURCE_EXHAUSTED,
  ST_ERR_TOO_MANY_SUBSCRIBERS: status.RESOURCE_EXHAUSTED,
  ST_ERR_SHED: status.UNAVAILABLE,
  ST_ERR_CLOSED: status.UNAVAILABLE,
  ST_ERR_EXTPROC_MALFORMED: status.INVALID_ARGUMENT,
  ST_ERR_EXTPROC_OUT_OF_ORDER: status.FAILED_PRECONDITION,
  ST_ERR_EXTPROC_TOO_MANY_STREAMS: status.RESOURCE_EXHAUSTED,
  ST_ERR_EXTPROC_IDLE: status.DEADLINE_EXCEEDED,
};

/** Translates any error into a gRPC status object for `callback(err)` or `call.emit('error', …)`. */
export function toGrpcError(err: unknown): Partial<ServiceError> {
  const metadata = new Metadata();
  if (isShadowtapError(err)) {
    metadata.set('shadowtap-error-code', err.code);
    return { code: BY_CODE[err.code] ?? status.INTERNAL, details: err.message, metadata };
  }
  return { code: status.INTERNAL, details: 'internal error', metadata };
}
