import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandLine, parseGenEnvoyArgs, renderEnvoyOutput } from './gen-envoy-args.js';

/** The committed examples in envoy/: file name → the gen-envoy arguments that produce it. */
export const ENVOY_EXAMPLES: ReadonlyArray<{ file: string; args: readonly string[] }> = [
  { file: 'snippet.yaml', args: ['--output', 'snippet'] },
  {
    file: 'snippet-replicas.yaml',
    args: [
      '--shadowtap',
      '10.0.1.10',
      '--shadowtap',
      '10.0.1.11',
      '--shadowtap',
      '10.0.1.12',
      '--mirror-percent',
      '25',
      '--disable-shadow-host-suffix-append',
    ],
  },
  { file: 'snippet-dns.yaml', args: ['--shadowtap', 'shadowtap.internal.example', '--health-check', 'admin'] },
  {
    file: 'snippet-ext-proc-observability.yaml',
    args: ['--ext-proc', 'observability', '--shadowtap', 'shadowtap.internal.example'],
  },
  { file: 'snippet-ext-proc-inline.yaml', args: ['--ext-proc', 'inline', '--shadowtap', 'shadowtap.internal.example'] },
  {
    file: 'snippet-ext-proc-blocking.yaml',
    args: ['--ext-proc', 'blocking', '--shadowtap', 'shadowtap.internal.example'],
  },
  {
    file: 'snippet-ext-proc-mtls.yaml',
    args: [
      '--ext-proc',
      'observability',
      '--shadowtap',
      'shadowtap.internal.example',
      '--tls-ca',
      '/etc/envoy/shadowtap-ca.pem',
      '--tls-cert',
      '/etc/envoy/envoy.pem',
      '--tls-key',
      '/etc/envoy/envoy-key.pem',
    ],
  },
  { file: 'bootstrap.yaml', args: ['--output', 'bootstrap', '--mirror', '--ext-proc', 'observability'] },
  {
    file: 'bootstrap-mirror-only.yaml',
    args: ['--output', 'bootstrap', '--route', '/api', '--route', '/login', '--mirror-percent', '50'],
  },
  {
    file: 'istio.yaml',
    args: ['--output', 'istio', '--shadowtap', 'shadowtap.shadowtap.svc.cluster.local', '--mirror-percent', '10'],
  },
  {
    file: 'istio-ext-proc-observability.yaml',
    args: ['--output', 'istio', '--shadowtap', 'shadowtap.shadowtap.svc.cluster.local', '--ext-proc', 'observability'],
  },
  {
    file: 'gateway-api.yaml',
    args: ['--output', 'gateway-api', '--shadowtap', 'shadowtap.shadowtap.svc.cluster.local', '--mirror-percent', '10'],
  },
  {
    file: 'gateway-api-ext-proc-inline.yaml',
    args: ['--output', 'gateway-api', '--shadowtap', 'shadowtap.shadowtap.svc.cluster.local', '--ext-proc', 'inline'],
  },
  {
    file: 'nginx.conf',
    args: ['--output', 'nginx', '--shadowtap', '10.0.1.10', '--shadowtap', '10.0.1.11', '--mirror-percent', '10'],
  },
];

/** Renders every example (file name → content); the same function writes envoy/ and checks it. */
export function generateExamples(): Map<string, string> {
  const out = new Map<string, string>();
  for (const { file, args } of ENVOY_EXAMPLES) {
    const req = parseGenEnvoyArgs(args);
    out.set(file, renderEnvoyOutput(req.format, req.options, commandLine(args)));
  }
  return out;
}

/** Writes the examples into dir (npm run gen:envoy-examples). */
export function writeExamples(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [file, text] of generateExamples()) {
    writeFileSync(join(dir, file), text);
    written.push(file);
  }
  return written;
}
