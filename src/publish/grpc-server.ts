import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Config } from '../config/config.js';
import { ERR_CLOSE_TIMEOUT } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ServiceRegistration } from './detection-service.js';

export interface GrpcServer {
  /** Binds and starts; resolves with the bound port (useful with port 0). */
  start(): Promise<number>;
  /** Graceful shutdown; streams still open after timeoutMs are cancelled. */
  close(timeoutMs: number): Promise<void>;
}

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
  for (const s of services) {
    server.addService(s.definition as ServiceDefinition, s.implementation as UntypedServiceImplementation);
  }
  return {
    start() {
      return new Promise<number>((resolve, reject) => {
        const addr = config.host.includes(':') ? `[${config.host}]:${config.port}` : `${config.host}:${config.port}`;
        server.bindAsync(addr, opts.credentials ?? ServerCredentials.createInsecure(), (err, port) => {
          if (err) return reject(err);
          logger.info({ addr, port }, 'gRPC server listening');
          resolve(port);
        });
      });
    },
    close(timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          // Subscribers hold server streams open forever; past the deadline they are cut.
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
