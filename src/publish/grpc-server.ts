import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/config.js';
import { ERR_CLOSE_TIMEOUT } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ServiceRegistration } from './detection-service.js';

export interface GrpcServer {
  /** Binds and starts; resolves with the bound port (useful with port 0). */
  start(): Promise<number>;
  /** Health reports NOT_SERVING for every service from now on (first step of shutdown). */
  markNotServing(): void;
  /** Graceful shutdown; streams still open after timeoutMs are cancelled. */
  close(timeoutMs: number): Promise<void>;
}

/** Fully-qualified service name of a grpc-js service definition ('/pkg.Svc/Method' → 'pkg.Svc'). */
export function serviceName(definition: Record<string, unknown>): string | undefined {
  for (const method of Object.values(definition)) {
    const path = (method as { path?: unknown }).path;
    if (typeof path === 'string') return path.split('/')[1];
  }
  return undefined;
}

/** The repository's proto/ directory, from src/publish/ or from dist/src/publish/. */
function protoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [`${here}/../../proto`, `${here}/../../../proto`];
  return candidates.find((d) => existsSync(`${d}/shadowtap/v1/detection_service.proto`)) ?? candidates[0]!;
}

let shadowtapProtos: PackageDefinition | undefined;

/** shadowtap.v1 and grpc.health.v1, loaded once per process, for server reflection. */
function ownPackageDefinitions(): PackageDefinition {
  shadowtapProtos ??= {
    ...loadSync('shadowtap/v1/detection_service.proto', { includeDirs: [protoRoot()] }),
    ...loadSync(`health/v1/${basename(healthProtoPath)}`, {
      includeDirs: [dirname(dirname(dirname(healthProtoPath)))],
    }),
  };
  return shadowtapProtos;
}

/**
 * The gRPC server: the registered services, plus the standard health service (SERVING for ''
 * and for each registered service, NOT_SERVING once shutdown starts) and server reflection
 * (v1 and v1alpha) for grpcurl. Neither health nor reflection carries detections, so both
 * stay outside DetectionService's bearer-token check, like ext_proc.
 */
export function createGrpcServer(opts: {
  config: Config['grpc'];
  services: readonly ServiceRegistration[];
  logger: Logger;
  credentials?: ServerCredentials;
}): GrpcServer {
  const { config, services, logger } = opts;
  const server = new Server({
    // Envoy keeps ext_proc streams on long-lived HTTP/2 connections; keepalive detects dead peers.
    'grpc.keepalive_time_ms': 30000,
    'grpc.keepalive_timeout_ms': 10000,
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
  });
  const names = [''];
  let reflected: PackageDefinition = ownPackageDefinitions();
  for (const s of services) {
    server.addService(s.definition as ServiceDefinition, s.implementation as UntypedServiceImplementation);
    const name = serviceName(s.definition as Record<string, unknown>);
    if (name !== undefined) names.push(name);
    if (s.reflection) reflected = { ...reflected, ...(s.reflection as PackageDefinition) };
  }
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'SERVING' as const])));
  health.addToServer(server);
  new ReflectionService(reflected).addToServer(server);

  return {
    start() {
      return new Promise<number>((resolve, reject) => {
        const addr = config.host.includes(':') ? `[${config.host}]:${config.port}` : `${config.host}:${config.port}`;
        server.bindAsync(addr, opts.credentials ?? ServerCredentials.createInsecure(), (err, port) => {
          if (err) return reject(err);
          logger.info({ addr, port, tls: config.tls !== undefined, services: names.slice(1) }, 'gRPC server listening');
          resolve(port);
        });
      });
    },
    markNotServing() {
      for (const n of names) health.setStatus(n, 'NOT_SERVING');
    },
    close(timeoutMs) {
      this.markNotServing();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          // Subscribers and health watchers hold streams open; past the deadline they are cut.
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown((err) => {
          clearTimeout(timer);
          if (err) reject(ERR_CLOSE_TIMEOUT('gRPC server', timeoutMs));
          else resolve();
        });
      });
    },
  };
}
