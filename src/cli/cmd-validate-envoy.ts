import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isShadowtapError } from '../core/errors.js';
import { loadEnvoyProtos } from '../envoy/envoy-protos.js';
import {
  ENVOY_RESOURCE_TYPES,
  PROTOS_ENVOY_VERSION,
  parseEnvoyText,
  validateEnvoyConfig,
} from '../envoy/validate-envoy.js';
import type { CliIo } from './cli-io.js';

export const VALIDATE_ENVOY_USAGE = `Usage: shadowtap validate-envoy FILE [options]

Validates a YAML or JSON Envoy configuration strictly against Envoy's v3 API protos (from
@grpc/grpc-js-xds, about Envoy ${PROTOS_ENVOY_VERSION}): unknown fields, wrong types, bad enum values, oneof
conflicts, durations, unresolvable typed_config @type, required fields, and references to
clusters that are not defined. Every error names its JSON path.

Options
  --type TYPE         what FILE holds (default bootstrap): ${Object.keys(ENVOY_RESOURCE_TYPES).join(', ')},
                      or a full message name such as envoy.config.core.v3.HealthCheck
  --cluster NAME      a cluster defined elsewhere (CDS, Istio); repeat
  --envoy-version V   accept fields Envoy added up to V (default ${PROTOS_ENVOY_VERSION})
  --json              print the result as JSON
  --help              this text

Exit codes: 0 valid, 1 invalid, 2 usage or unreadable file.
`;

/** `shadowtap validate-envoy FILE`: exit 0 when valid, 1 when not, 2 on usage errors. */
export async function runValidateEnvoy(argv: string[], io: CliIo): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        type: { type: 'string', short: 't' },
        cluster: { type: 'string', multiple: true },
        'envoy-version': { type: 'string' },
        json: { type: 'boolean' },
      },
    }));
  } catch (err) {
    io.stderr(`shadowtap validate-envoy: ${(err as Error).message}\n${VALIDATE_ENVOY_USAGE}`);
    return 2;
  }
  if (values['help']) {
    io.stdout(VALIDATE_ENVOY_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    io.stderr(`shadowtap validate-envoy: expected one FILE, got ${positionals.length}\n${VALIDATE_ENVOY_USAGE}`);
    return 2;
  }
  const file = positionals[0]!;
  let doc: unknown;
  try {
    doc = parseEnvoyText(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if (isShadowtapError(err) || (err as NodeJS.ErrnoException).code !== undefined) {
      io.stderr(`shadowtap validate-envoy: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
  const result = validateEnvoyConfig(doc, {
    type: (values['type'] as string | undefined) ?? 'bootstrap',
    ...(values['envoy-version'] ? { envoyVersion: values['envoy-version'] as string } : {}),
    knownClusters: (values['cluster'] as string[] | undefined) ?? [],
  });
  if (values['json']) {
    io.stdout(`${JSON.stringify({ file, ...result, protosLoadMs: Math.round(loadEnvoyProtos().loadMs) }, null, 2)}\n`);
    return result.ok ? 0 : 1;
  }
  for (const w of result.warnings) io.stderr(`${file}: warning: ${w.path}: ${w.message}\n`);
  if (!result.ok) {
    for (const e of result.errors) io.stderr(`${file}: ${e.path}: ${e.message}\n`);
    io.stderr(
      `${file}: invalid ${result.type} (${result.errors.length} error${result.errors.length === 1 ? '' : 's'})\n`,
    );
    return 1;
  }
  io.stdout(`${file}: valid ${result.type}${result.warnings.length ? ` (${result.warnings.length} warnings)` : ''}\n`);
  return 0;
}
