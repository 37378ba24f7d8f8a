import { writeFileSync } from 'node:fs';
import { isShadowtapError } from '../core/errors.js';
import type { CliIo } from './cli-io.js';
import { GEN_ENVOY_USAGE, commandLine, parseGenEnvoyArgs, renderEnvoyOutput } from '../envoy/gen-envoy-args.js';

/**
 * `shadowtap gen-envoy`: prints (or writes) Envoy / Istio / Gateway API / NGINX configuration.
 * Exit codes: 0 written, 2 bad flags or an option combination that cannot work.
 */
export async function runGenEnvoy(argv: string[], io: CliIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(GEN_ENVOY_USAGE);
    return 0;
  }
  try {
    const req = parseGenEnvoyArgs(argv);
    const text = renderEnvoyOutput(req.format, req.options, commandLine(argv));
    if (req.out) {
      writeFileSync(req.out, text);
      io.stderr(`wrote ${req.format} to ${req.out}\n`);
    } else {
      io.stdout(text);
    }
    return 0;
  } catch (err) {
    if (isShadowtapError(err)) {
      io.stderr(`shadowtap gen-envoy: ${err.message}\n`);
      return err.code === 'ST_ERR_INVALID_ARGUMENT' ? 2 : 1;
    }
    throw err;
  }
}
