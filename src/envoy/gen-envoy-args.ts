import { parseArgs } from 'node:util';
import { ERR_INVALID_ARGUMENT } from '../core/errors.js';
import {
  resolveGenOptions,
  type BodySendMode,
  type ExtProcMode,
  type GenEnvoyInput,
  type GenEnvoyOptions,
  type HeaderSendMode,
  type OutputFormat,
} from './gen-envoy.js';
import { istioOutboundCluster, buildIstioEnvoyFilter, renderIstio } from './output-istio.js';
import { renderBootstrap } from './output-bootstrap.js';
import { renderGatewayApi } from './output-gateway-api.js';
import { renderNginx } from './output-nginx.js';
import { buildSnippet, renderSnippet } from './output-snippet.js';
import { buildBootstrap } from './gen-envoy.js';
import { assertValidEnvoy } from './validate-envoy.js';

/*
 * `shadowtap gen-envoy` flags → options → rendered text. Shared by the CLI command and by the
 * committed examples (each example records the exact command line that regenerates it).
 */

export const GEN_ENVOY_USAGE = `Usage: shadowtap gen-envoy [options]

Generates Envoy (or Istio, Gateway API, NGINX) configuration that sends traffic to shadowtap.
Envoy outputs are validated against Envoy's v3 API protos before they are printed.

Output
  --output FORMAT              snippet (default) | bootstrap | istio | gateway-api | nginx
  --out FILE                   write to FILE instead of stdout
  --envoy-version V            target Envoy version (default 1.31, the shipped protos); newer
                               fields such as --shadow-host-rewrite need it raised

shadowtap
  --shadowtap HOST             a shadowtap replica (repeat for several); IPs → STATIC cluster,
                               names → STRICT_DNS (default 127.0.0.1)
  --discovery MODE             auto (default) | static | strict-dns
  --shadow-port N              shared shadow listener port, HTTP/1.1 + h2c (default 8080):
                               the target of the mirror cluster (HTTP/1.1) and NGINX
  --shadow-h2c-port N          dedicated h2c port (shadow.h2cPort, default 8081): the target of
                               --shadow-protocol http2; pass the shadow port when h2cPort is off
  --grpc-port N                gRPC / ext_proc port (default 50051)
  --admin-port N               admin port with /readyz (default 9090)
  --cluster-prefix NAME        cluster names NAME and NAME_ext_proc (default shadowtap)

Mirroring
  --mirror / --no-mirror       request_mirror_policies (default: on unless --ext-proc is set)
  --mirror-percent P           share of requests copied, 0-100 (default 100)
  --runtime-key KEY            runtime key overriding the share (default shadowtap.mirror)
  --mirror-scope SCOPE         route (default) | virtual-host
  --route PREFIX               mirror only this path prefix (repeat; default: every path)
  --domain NAME                virtual host domain / HTTPRoute hostname (repeat; default *)
  --disable-shadow-host-suffix-append
                               keep the Host of copies (no "-shadow"; Envoy 1.31+)
  --shadow-host-rewrite HOST   literal Host for copies (Envoy 1.36+, needs --envoy-version 1.36)
  --shadow-protocol P          http1 (default, to --shadow-port) | http2 (h2c to --shadow-h2c-port)

ext_proc
  --ext-proc MODE              off (default) | observability | inline | blocking
  --request-header-mode M      SEND | SKIP
  --response-header-mode M     SEND | SKIP
  --request-body-mode M        NONE | STREAMED | BUFFERED | BUFFERED_PARTIAL
  --response-body-mode M       NONE | STREAMED | BUFFERED | BUFFERED_PARTIAL
  --message-timeout-ms N       per-message answer deadline (default 200)
  --fail-closed                failure_mode_allow: false (default: fail open)
  --tls-ca FILE                TLS to shadowtap's gRPC port, verifying it with this CA
  --tls-cert FILE, --tls-key FILE
                               client certificate for mTLS
  --tls-sni NAME               SNI and expected SAN (default: the first address when a name)

Cluster behaviour
  --lb POLICY                  auto (RING_HASH with several replicas) | ring-hash | round-robin | least-request
  --health-check TARGET        shadow (default: GET /readyz on the mirror's port, any 2xx) |
                               admin (/readyz on the admin port; needs admin.host reachable) | none
  --connect-timeout-ms N       default 250
  --max-requests N             mirror cluster concurrent requests (default 1024)
  --max-pending N              requests allowed to wait for a connection (default 16)
  --ext-proc-max-requests N    ext_proc concurrent streams (default 4096)

bootstrap
  --listener-port N            default 10000 (demo upstream on N+1)
  --envoy-admin-port N         default 9901

Kubernetes (istio, gateway-api)
  --namespace NS               the application's namespace (default default)
  --app-service NAME           the application's Service (default my-app)
  --app-port N                 default 80
  --shadowtap-service NAME     default shadowtap
  --shadowtap-namespace NS     default shadowtap
  --gateway NAME               Gateway of the HTTPRoute (default eg)

  --help                       this text
`;

const FORMATS: readonly OutputFormat[] = ['snippet', 'bootstrap', 'istio', 'gateway-api', 'nginx'];

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw ERR_INVALID_ARGUMENT(`--${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function num(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw ERR_INVALID_ARGUMENT(`--${flag} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

function int(flag: string, value: string | undefined): number | undefined {
  const n = num(flag, value);
  if (n !== undefined && (!Number.isInteger(n) || n < 0))
    throw ERR_INVALID_ARGUMENT(`--${flag} must be a whole number, got ${value}`);
  return n;
}

export interface GenEnvoyRequest {
  help: boolean;
  format: OutputFormat;
  out?: string;
  options: GenEnvoyOptions;
}

const HEADER_MODES: readonly HeaderSendMode[] = ['SEND', 'SKIP'];
const BODY_MODES: readonly BodySendMode[] = ['NONE', 'STREAMED', 'BUFFERED', 'BUFFERED_PARTIAL'];

/** Parses gen-envoy flags; throws ST_ERR_INVALID_ARGUMENT naming the bad flag. */
export function parseGenEnvoyArgs(argv: readonly string[]): GenEnvoyRequest {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        output: { type: 'string', short: 'o' },
        out: { type: 'string' },
        'envoy-version': { type: 'string' },
        shadowtap: { type: 'string', multiple: true },
        discovery: { type: 'string' },
        'shadow-port': { type: 'string' },
        'shadow-h2c-port': { type: 'string' },
        'grpc-port': { type: 'string' },
        'admin-port': { type: 'string' },
        'cluster-prefix': { type: 'string' },
        mirror: { type: 'boolean' },
        'no-mirror': { type: 'boolean' },
        'mirror-percent': { type: 'string' },
        'runtime-key': { type: 'string' },
        'mirror-scope': { type: 'string' },
        route: { type: 'string', multiple: true },
        domain: { type: 'string', multiple: true },
        'disable-shadow-host-suffix-append': { type: 'boolean' },
        'shadow-host-rewrite': { type: 'string' },
        'shadow-protocol': { type: 'string' },
        'ext-proc': { type: 'string' },
        'request-header-mode': { type: 'string' },
        'response-header-mode': { type: 'string' },
        'request-body-mode': { type: 'string' },
        'response-body-mode': { type: 'string' },
        'message-timeout-ms': { type: 'string' },
        'fail-closed': { type: 'boolean' },
        'tls-ca': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-sni': { type: 'string' },
        lb: { type: 'string' },
        'health-check': { type: 'string' },
        'connect-timeout-ms': { type: 'string' },
        'max-requests': { type: 'string' },
        'max-pending': { type: 'string' },
        'ext-proc-max-requests': { type: 'string' },
        'listener-port': { type: 'string' },
        'envoy-admin-port': { type: 'string' },
        namespace: { type: 'string' },
        'app-service': { type: 'string' },
        'app-port': { type: 'string' },
        'shadowtap-service': { type: 'string' },
        'shadowtap-namespace': { type: 'string' },
        gateway: { type: 'string' },
      },
    }));
  } catch (err) {
    throw ERR_INVALID_ARGUMENT((err as Error).message);
  }
  const s = (k: string): string | undefined => values[k] as string | undefined;
  if (values['mirror'] && values['no-mirror'])
    throw ERR_INVALID_ARGUMENT('--mirror and --no-mirror contradict each other');
  if ((s('tls-cert') || s('tls-key') || s('tls-sni')) && !s('tls-ca')) {
    throw ERR_INVALID_ARGUMENT('--tls-cert/--tls-key/--tls-sni need --tls-ca (TLS to shadowtap is verified)');
  }
  const input: GenEnvoyInput = {
    addresses: values['shadowtap'] as string[] | undefined,
    discovery: oneOf('discovery', s('discovery'), ['auto', 'static', 'strict-dns'] as const),
    shadowPort: int('shadow-port', s('shadow-port')),
    shadowH2cPort: int('shadow-h2c-port', s('shadow-h2c-port')),
    grpcPort: int('grpc-port', s('grpc-port')),
    adminPort: int('admin-port', s('admin-port')),
    clusterPrefix: s('cluster-prefix'),
    mirror: values['mirror'] ? true : values['no-mirror'] ? false : undefined,
    mirrorPercent: num('mirror-percent', s('mirror-percent')),
    runtimeKey: s('runtime-key'),
    mirrorScope: oneOf('mirror-scope', s('mirror-scope'), ['route', 'virtual-host'] as const),
    mirrorRoutes: values['route'] as string[] | undefined,
    domains: values['domain'] as string[] | undefined,
    disableShadowHostSuffixAppend: values['disable-shadow-host-suffix-append'] === true ? true : undefined,
    shadowHostRewrite: s('shadow-host-rewrite'),
    shadowProtocol: oneOf('shadow-protocol', s('shadow-protocol'), ['http2', 'http1'] as const),
    extProc: oneOf<ExtProcMode>('ext-proc', s('ext-proc'), ['off', 'observability', 'inline', 'blocking']),
    processingMode: {
      requestHeaderMode: oneOf('request-header-mode', s('request-header-mode'), HEADER_MODES),
      responseHeaderMode: oneOf('response-header-mode', s('response-header-mode'), HEADER_MODES),
      requestBodyMode: oneOf('request-body-mode', s('request-body-mode'), BODY_MODES),
      responseBodyMode: oneOf('response-body-mode', s('response-body-mode'), BODY_MODES),
    },
    messageTimeoutMs: int('message-timeout-ms', s('message-timeout-ms')),
    failureModeAllow: values['fail-closed'] === true ? false : undefined,
    tls: s('tls-ca')
      ? {
          caFile: s('tls-ca')!,
          ...(s('tls-cert') ? { certFile: s('tls-cert')! } : {}),
          ...(s('tls-key') ? { keyFile: s('tls-key')! } : {}),
          ...(s('tls-sni') ? { sni: s('tls-sni')! } : {}),
        }
      : undefined,
    lb: oneOf('lb', s('lb'), ['auto', 'ring-hash', 'round-robin', 'least-request'] as const),
    healthCheck: oneOf('health-check', s('health-check'), ['shadow', 'admin', 'none'] as const),
    connectTimeoutMs: int('connect-timeout-ms', s('connect-timeout-ms')),
    maxRequests: int('max-requests', s('max-requests')),
    maxPendingRequests: int('max-pending', s('max-pending')),
    extProcMaxRequests: int('ext-proc-max-requests', s('ext-proc-max-requests')),
    envoyVersion: s('envoy-version'),
    listenerPort: int('listener-port', s('listener-port')),
    envoyAdminPort: int('envoy-admin-port', s('envoy-admin-port')),
    namespace: s('namespace'),
    appService: s('app-service'),
    appPort: int('app-port', s('app-port')),
    shadowtapService: s('shadowtap-service'),
    shadowtapNamespace: s('shadowtap-namespace'),
    gateway: s('gateway'),
  };
  const format = oneOf('output', s('output'), FORMATS) ?? 'snippet';
  return {
    help: values['help'] === true,
    format,
    ...(s('out') ? { out: s('out')! } : {}),
    options: resolveGenOptions(input),
  };
}

/**
 * Renders one output format. Envoy configuration (snippet, bootstrap, the Istio EnvoyFilter's
 * filter) is validated against the protos first: a generator bug fails here, not in Envoy.
 */
export function renderEnvoyOutput(format: OutputFormat, o: GenEnvoyOptions, command: string): string {
  const envoyVersion = o.envoyVersion;
  switch (format) {
    case 'snippet':
      assertValidEnvoy(buildSnippet(o), { type: 'snippet', envoyVersion });
      return renderSnippet(o, command);
    case 'bootstrap':
      assertValidEnvoy(buildBootstrap(o), { type: 'bootstrap', envoyVersion });
      return renderBootstrap(o, command);
    case 'istio': {
      const ef = buildIstioEnvoyFilter(o);
      if (ef) {
        const patch = (ef['spec'] as { configPatches: Array<{ patch: { value: unknown } }> }).configPatches[0]!.patch
          .value;
        assertValidEnvoy(patch, { type: 'http_filter', envoyVersion, knownClusters: [istioOutboundCluster(o)] });
      }
      return renderIstio(o, command);
    }
    case 'gateway-api':
      return renderGatewayApi(o, command);
    case 'nginx':
      return renderNginx(o, command);
  }
}

/** `shadowtap gen-envoy a b c` with arguments quoted for a POSIX shell when needed. */
export function commandLine(argv: readonly string[]): string {
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['shadowtap gen-envoy', ...argv.map(quote)].join(' ');
}
