import { ServerCredentials } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Config } from '../config/config.js';
import { ERR_CONFIG_FILE, ERR_CONFIG_INVALID } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** True for hosts only this machine can reach: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped !== null && mapped[1]!.startsWith('127.');
}

/** True when the config makes every client present a certificate signed by grpc.tls.caFile. */
export function isMutualTls(config: Config['grpc']): boolean {
  return config.tls !== undefined && config.tls.requireClientCert && config.tls.caFile !== undefined;
}

/**
 * Refuses a bind that would hand detections (request paths, client IPs, matched fragments)
 * to anyone who can reach the port: a non-loopback host needs a bearer token or mTLS, or
 * the explicit opt-in `grpc.allowUnauthenticated: true`. Throws ST_ERR_CONFIG_INVALID.
 */
export function checkGrpcExposure(config: Config['grpc'], logger?: Logger): void {
  if (config.tls?.requireClientCert && config.tls.caFile === undefined) {
    throw ERR_CONFIG_INVALID(
      '  - grpc.tls.requireClientCert: true needs grpc.tls.caFile (the CA that signs client certificates)',
    );
  }
  if (isLoopbackHost(config.host)) return;
  if (config.authToken === undefined && !isMutualTls(config) && !config.allowUnauthenticated) {
    throw ERR_CONFIG_INVALID(
      `  - grpc.host: ${config.host} is not a loopback address, and neither grpc.authToken nor mTLS ` +
        '(grpc.tls.requireClientCert: true with grpc.tls.caFile) is set: DetectionService would stream ' +
        'detections to anyone who can reach the port. Set grpc.authToken (with grpc.tls for consumers), ' +
        'or mTLS, or, if a network policy already restricts the port, grpc.allowUnauthenticated: true.',
    );
  }
  if (config.authToken !== undefined && config.tls === undefined) {
    logger?.warn(
      { host: config.host },
      'grpc.authToken is set without grpc.tls on a non-loopback host: the token travels in clear text',
    );
  }
  if (config.allowUnauthenticated && config.authToken === undefined && !isMutualTls(config)) {
    logger?.warn(
      { host: config.host },
      'DetectionService is exposed without authentication (grpc.allowUnauthenticated)',
    );
  }
}

function readPem(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw ERR_CONFIG_FILE(file, (err as Error).message);
  }
}

/**
 * Checks the exposure rules and builds the server credentials: insecure without grpc.tls,
 * TLS with it, mTLS when grpc.tls.requireClientCert is set. Reads the PEM files now, so
 * that a missing or unreadable file stops startup with ST_ERR_CONFIG_FILE naming it.
 */
export function grpcServerCredentials(config: Config['grpc'], logger?: Logger): ServerCredentials {
  checkGrpcExposure(config, logger);
  const tls = config.tls;
  if (tls === undefined) return ServerCredentials.createInsecure();
  const ca = tls.caFile === undefined ? null : readPem(tls.caFile);
  return ServerCredentials.createSsl(
    ca,
    [{ cert_chain: readPem(tls.certFile), private_key: readPem(tls.keyFile) }],
    tls.requireClientCert,
  );
}
