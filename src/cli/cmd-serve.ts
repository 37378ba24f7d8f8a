import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../core/logger.js';
import { startShadowtap } from '../server.js';
import type { CliIo } from './cli-io.js';
import { setOverrides } from './cli-flags.js';

export const SERVE_HELP = `Usage: shadowtap serve [options]

Starts the shadow listener (mirrored HTTP/1.1 + h2c; h2c only, the fast path, on its own
port), the detection worker pool, the gRPC server (DetectionService) and the admin server
(/metrics, /healthz, /readyz).

Options:
  -c, --config FILE        YAML config file (defaults are built in; see README)
      --shadow-port N      shadow listener port            (shadow.port, default 8080)
      --shadow-h2c-port N  dedicated h2c port, false = off (shadow.h2cPort, default 8081)
      --grpc-port N        gRPC port                       (grpc.port, default 50051)
      --admin-port N       admin port                      (admin.port, default 9090)
      --set KEY=VALUE      set any config key, e.g. --set analysis.sensitivity=high (repeatable)
  -h, --help               show this help

Every key can also be set from the environment: shadow.port → SHADOWTAP_SHADOW_PORT,
analysis.limits.maxBodyBytes → SHADOWTAP_ANALYSIS_LIMITS_MAX_BODY_BYTES.
Precedence: defaults < config file < environment < flags.
`;

/** Parses serve's flags into dotted config overrides. */
export function serveOverrides(values: {
  'shadow-port'?: string | undefined;
  'shadow-h2c-port'?: string | undefined;
  'grpc-port'?: string | undefined;
  'admin-port'?: string | undefined;
  set?: string[] | undefined;
}): Record<string, unknown> {
  const overrides = setOverrides(values.set);
  if (values['shadow-port'] !== undefined) overrides['shadow.port'] = values['shadow-port'];
  if (values['shadow-h2c-port'] !== undefined) overrides['shadow.h2cPort'] = values['shadow-h2c-port'];
  if (values['grpc-port'] !== undefined) overrides['grpc.port'] = values['grpc-port'];
  if (values['admin-port'] !== undefined) overrides['admin.port'] = values['admin-port'];
  return overrides;
}

export async function runServe(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      'shadow-port': { type: 'string' },
      'shadow-h2c-port': { type: 'string' },
      'grpc-port': { type: 'string' },
      'admin-port': { type: 'string' },
      set: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout(SERVE_HELP);
    return 0;
  }
  const config = loadConfig({ file: values.config, env: process.env, overrides: serveOverrides(values) });
  const logger = createLogger(config.log.level);
  const app = await startShadowtap(config, { logger });
  logger.info({ ports: app.ports }, 'shadowtap ready');
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'shutting down');
      app.close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
