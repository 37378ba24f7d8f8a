import { isShadowtapError } from '../core/errors.js';
import { processIo, type CliIo } from './cli-io.js';
import { runAnalyze } from './cmd-analyze.js';
import { runServe } from './cmd-serve.js';
import { runTail } from './cmd-tail.js';

export const MAIN_HELP = `Usage: shadowtap <command> [options]

Commands:
  serve            run the shadow listener, worker pool, gRPC and admin servers
  tail             stream detections from a running shadowtap
  analyze FILE...  analyse HAR / JSON-lines captures offline
  gen-envoy        print Envoy (or Istio, Gateway API, NGINX) config that mirrors to shadowtap
  validate-envoy   validate an Envoy config against Envoy's API protos

Run 'shadowtap <command> --help' for a command's options.
`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  serve: async () => runServe,
  tail: async () => runTail,
  analyze: async () => runAnalyze,
  'gen-envoy': async () => (await import('./cmd-gen-envoy.js')).runGenEnvoy,
  'validate-envoy': async () => (await import('./cmd-validate-envoy.js')).runValidateEnvoy,
};

/** CLI entry point; returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(MAIN_HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout('shadowtap 0.1.0\n');
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr(`shadowtap: unknown command ${JSON.stringify(name)}\n\n${MAIN_HELP}`);
    return 2;
  }
  try {
    return await (
      await load()
    )(rest, io);
  } catch (err) {
    // Config and input errors are the operator's to fix: print the message, not a stack.
    if (
      isShadowtapError(err) ||
      (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      (err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
    ) {
      io.stderr(`shadowtap ${name}: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}
