import { isIP } from 'node:net';
import { ERR_INVALID_ARGUMENT } from '../core/errors.js';
import { NEWER_FIELDS, PROTOS_ENVOY_VERSION, compareVersions } from './validate-envoy.js';

/*
 * Pure functions: generator options → Envoy v3 config objects (proto3 JSON with snake_case
 * keys, ready to render as YAML). Every output format builds on these, and every object they
 * return is checked against Envoy's API protos by validate-envoy.ts in the tests.
 */

export type ExtProcMode = 'off' | 'observability' | 'inline' | 'blocking';
export type HeaderSendMode = 'SEND' | 'SKIP';
export type BodySendMode = 'NONE' | 'STREAMED' | 'BUFFERED' | 'BUFFERED_PARTIAL';
export type HealthCheckTarget = 'shadow' | 'admin' | 'none';
export type OutputFormat = 'snippet' | 'bootstrap' | 'istio' | 'gateway-api' | 'nginx';

export interface ProcessingModeOptions {
  requestHeaderMode: HeaderSendMode;
  responseHeaderMode: HeaderSendMode;
  requestBodyMode: BodySendMode;
  responseBodyMode: BodySendMode;
}

/** Everything `shadowtap gen-envoy` can be told. Build with resolveGenOptions(). */
export interface GenEnvoyOptions {
  /** shadowtap replicas: IP addresses (STATIC) or DNS names (STRICT_DNS). */
  addresses: string[];
  /** 'auto': STATIC when every address is an IP literal, else STRICT_DNS. */
  discovery: 'auto' | 'static' | 'strict-dns';
  /** shadowtap's shared shadow listener port (HTTP/1.1 + h2c), config shadow.port: HTTP/1.1 copies go here. */
  shadowPort: number;
  /** shadowtap's dedicated h2c port, config shadow.h2cPort: HTTP/2 copies go here. */
  shadowH2cPort: number;
  /** shadowtap's gRPC port (ext_proc), config grpc.port. */
  grpcPort: number;
  /** shadowtap's admin port (/readyz), config admin.port. */
  adminPort: number;
  /** Cluster names: `<prefix>` (mirror) and `<prefix>_ext_proc`. */
  clusterPrefix: string;
  /** Generate the mirror policy (default: only when ext_proc is off, so each request is analysed once). */
  mirror: boolean;
  /** Percentage of requests mirrored, 0–100 (up to 4 decimals). */
  mirrorPercent: number;
  /** Runtime key that overrides the mirrored fraction at run time. */
  runtimeKey: string;
  /** Where the mirror policy sits: on each mirrored route, or on the whole virtual host. */
  mirrorScope: 'route' | 'virtual-host';
  /** Path prefixes to mirror (bootstrap/istio/gateway-api); empty = every path. */
  mirrorRoutes: string[];
  /** Virtual host domains (bootstrap) / hostnames (gateway-api). */
  domains: string[];
  /** Keep the original Host on copies instead of `<host>-shadow` (Envoy 1.31+). */
  disableShadowHostSuffixAppend: boolean;
  /** Literal Host for copies (RequestMirrorPolicy.host_rewrite_literal, Envoy 1.36+). */
  shadowHostRewrite?: string;
  /**
   * Protocol to the shadow listener: http1 → shadowPort (the default: shadowtap parses
   * HTTP/1.1 itself and analyses 35–56 % more of it than of h2c, docs/envoy.md),
   * http2 → shadowH2cPort.
   */
  shadowProtocol: 'http2' | 'http1';
  extProc: ExtProcMode;
  processingMode: ProcessingModeOptions;
  /** ext_proc message_timeout, ms (must exceed shadowtap's extProc.inlineDeadlineMs). */
  messageTimeoutMs: number;
  /** Continue the request when shadowtap fails or is late (fail open). */
  failureModeAllow: boolean;
  /** Load balancing; 'auto' = RING_HASH with several replicas, else ROUND_ROBIN. */
  lb: 'auto' | 'ring-hash' | 'round-robin' | 'least-request';
  healthCheck: HealthCheckTarget;
  connectTimeoutMs: number;
  /** Circuit breakers of the mirror cluster: concurrent requests, and requests allowed to wait. */
  maxRequests: number;
  maxPendingRequests: number;
  /** Circuit breakers of the ext_proc cluster (one gRPC stream per HTTP request). */
  extProcMaxRequests: number;
  /** TLS to shadowtap's gRPC port: CA bundle to verify shadowtap, client cert/key for mTLS, SNI. */
  tls?: { caFile: string; certFile?: string; keyFile?: string; sni?: string };
  /** Envoy version the config targets; fields newer than the shipped protos need it raised. */
  envoyVersion: string;
  /** Bootstrap only: the listener port, admin port and demo upstream. */
  listenerPort: number;
  envoyAdminPort: number;
  /** Kubernetes outputs: namespace and names. */
  namespace: string;
  shadowtapService: string;
  shadowtapNamespace: string;
  appService: string;
  appPort: number;
  gateway: string;
}

/** Per ext_proc mode: what Envoy sends by default (overridable flag by flag). */
export const PROCESSING_MODE_DEFAULTS: Readonly<Record<Exclude<ExtProcMode, 'off'>, ProcessingModeOptions>> = {
  // Envoy does not wait for shadowtap; bodies can only be STREAMED in this mode.
  observability: {
    requestHeaderMode: 'SEND',
    responseHeaderMode: 'SEND',
    requestBodyMode: 'STREAMED',
    responseBodyMode: 'STREAMED',
  },
  // Envoy waits for each answer (shadowtap always continues): request body buffered up to the
  // connection buffer limit (BUFFERED_PARTIAL never fails a large body with 413), response status kept.
  inline: {
    requestHeaderMode: 'SEND',
    responseHeaderMode: 'SEND',
    requestBodyMode: 'BUFFERED_PARTIAL',
    responseBodyMode: 'NONE',
  },
  // A block decision must be made before the upstream sees the request: nothing of the response is sent.
  blocking: {
    requestHeaderMode: 'SEND',
    responseHeaderMode: 'SKIP',
    requestBodyMode: 'BUFFERED_PARTIAL',
    responseBodyMode: 'NONE',
  },
};

/** What callers pass: any subset of the options; processing mode flags override the mode's defaults one by one. */
export type GenEnvoyInput = Partial<Omit<GenEnvoyOptions, 'processingMode'>> & {
  processingMode?: Partial<ProcessingModeOptions>;
};

/** Defaults follow shadowtap's own config defaults (src/config/config.ts). */
export function resolveGenOptions(input: GenEnvoyInput = {}): GenEnvoyOptions {
  // Keys explicitly set to undefined (absent CLI flags) must not hide the defaults.
  const partial = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as GenEnvoyInput;
  const extProc = partial.extProc ?? 'off';
  const baseMode = extProc === 'off' ? PROCESSING_MODE_DEFAULTS.observability : PROCESSING_MODE_DEFAULTS[extProc];
  const o: GenEnvoyOptions = {
    addresses: ['127.0.0.1'],
    discovery: 'auto',
    shadowPort: 8080,
    shadowH2cPort: 8081,
    grpcPort: 50051,
    adminPort: 9090,
    clusterPrefix: 'shadowtap',
    mirror: extProc === 'off',
    mirrorPercent: 100,
    runtimeKey: 'shadowtap.mirror',
    mirrorScope: 'route',
    mirrorRoutes: [],
    domains: ['*'],
    disableShadowHostSuffixAppend: false,
    shadowProtocol: 'http1',
    extProc,
    messageTimeoutMs: 200,
    failureModeAllow: true,
    lb: 'auto',
    healthCheck: 'shadow',
    connectTimeoutMs: 250,
    maxRequests: 1024,
    maxPendingRequests: 16,
    extProcMaxRequests: 4096,
    envoyVersion: PROTOS_ENVOY_VERSION,
    listenerPort: 10000,
    envoyAdminPort: 9901,
    namespace: 'default',
    shadowtapService: 'shadowtap',
    shadowtapNamespace: 'shadowtap',
    appService: 'my-app',
    appPort: 80,
    gateway: 'eg',
    ...partial,
    processingMode: {
      ...baseMode,
      ...Object.fromEntries(Object.entries(partial.processingMode ?? {}).filter(([, v]) => v !== undefined)),
    },
  };
  checkGenOptions(o);
  return o;
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw ERR_INVALID_ARGUMENT(`${name} must be a port 1-65535, got ${port}`);
}

/** Rejects option combinations Envoy would reject or that cannot work. */
export function checkGenOptions(o: GenEnvoyOptions): void {
  if (o.addresses.length === 0) throw ERR_INVALID_ARGUMENT('give at least one shadowtap address');
  for (const a of o.addresses) {
    if (!/^[A-Za-z0-9.:_-]+$/.test(hostOf(a)))
      throw ERR_INVALID_ARGUMENT(`not a host name or IP address: ${JSON.stringify(a)}`);
  }
  for (const [n, p] of [
    ['shadow port', o.shadowPort],
    ['shadow h2c port', o.shadowH2cPort],
    ['gRPC port', o.grpcPort],
    ['admin port', o.adminPort],
    ['listener port', o.listenerPort],
    ['Envoy admin port', o.envoyAdminPort],
    ['app port', o.appPort],
  ] as const) {
    checkPort(n, p);
  }
  if (
    !(o.mirrorPercent >= 0 && o.mirrorPercent <= 100) ||
    Math.round(o.mirrorPercent * 10000) !== o.mirrorPercent * 10000
  ) {
    throw ERR_INVALID_ARGUMENT(`mirror percent must be 0-100 with at most 4 decimals, got ${o.mirrorPercent}`);
  }
  if (o.discovery === 'static' && o.addresses.some((a) => isIP(hostOf(a)) === 0)) {
    throw ERR_INVALID_ARGUMENT('--discovery static needs IP addresses (Envoy rejects host names in STATIC clusters)');
  }
  if (!o.mirror && o.extProc === 'off')
    throw ERR_INVALID_ARGUMENT('nothing to generate: mirroring and ext_proc are both off');
  if (!/^\d+\.\d+$/.test(o.envoyVersion))
    throw ERR_INVALID_ARGUMENT(`--envoy-version must look like 1.31, got ${o.envoyVersion}`);
  if (o.disableShadowHostSuffixAppend && compareVersions(o.envoyVersion, '1.31') < 0) {
    throw ERR_INVALID_ARGUMENT('disable_shadow_host_suffix_append needs Envoy 1.31+');
  }
  if (o.extProc === 'observability' && compareVersions(o.envoyVersion, '1.31') < 0) {
    throw ERR_INVALID_ARGUMENT('ext_proc observability_mode needs Envoy 1.31+');
  }
  const rewriteSince = NEWER_FIELDS['envoy.config.route.v3.RouteAction.RequestMirrorPolicy.host_rewrite_literal']!;
  if (o.shadowHostRewrite !== undefined && compareVersions(o.envoyVersion, rewriteSince) < 0) {
    throw ERR_INVALID_ARGUMENT(
      `--shadow-host-rewrite (host_rewrite_literal) needs Envoy ${rewriteSince}+, newer than the shipped protos (${PROTOS_ENVOY_VERSION}); pass --envoy-version ${rewriteSince}`,
    );
  }
  if (o.extProc === 'observability') {
    for (const m of [o.processingMode.requestBodyMode, o.processingMode.responseBodyMode]) {
      if (m === 'BUFFERED' || m === 'BUFFERED_PARTIAL') {
        throw ERR_INVALID_ARGUMENT(`ext_proc observability mode sends bodies only STREAMED (or NONE), not ${m}`);
      }
    }
  }
  if (!(o.messageTimeoutMs > 0 && o.messageTimeoutMs <= 3600_000)) {
    throw ERR_INVALID_ARGUMENT(`message timeout must be in (0, 3600000] ms, got ${o.messageTimeoutMs}`);
  }
  if (o.tls && (o.tls.certFile === undefined) !== (o.tls.keyFile === undefined)) {
    throw ERR_INVALID_ARGUMENT('mTLS needs both --tls-cert and --tls-key');
  }
  for (const r of o.mirrorRoutes) {
    if (!r.startsWith('/')) throw ERR_INVALID_ARGUMENT(`route prefixes start with "/", got ${JSON.stringify(r)}`);
  }
}

/** Strips brackets from an IPv6 literal. */
function hostOf(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

export function mirrorClusterName(o: GenEnvoyOptions): string {
  return o.clusterPrefix;
}

export function extProcClusterName(o: GenEnvoyOptions): string {
  return `${o.clusterPrefix}_ext_proc`;
}

function seconds(ms: number): string {
  const s = (ms / 1000).toFixed(3).replace(/\.?0+$/, '');
  return `${s}s`;
}

type Json = Record<string, unknown>;

/** FractionalPercent for a percentage with up to 4 decimals, on the smallest exact denominator. */
export function fractionalPercent(percent: number): {
  numerator: number;
  denominator: 'HUNDRED' | 'TEN_THOUSAND' | 'MILLION';
} {
  if (Number.isInteger(percent)) return { numerator: percent, denominator: 'HUNDRED' };
  if (Number.isInteger(Math.round(percent * 100 * 1e6) / 1e6))
    return { numerator: Math.round(percent * 100), denominator: 'TEN_THOUSAND' };
  return { numerator: Math.round(percent * 10000), denominator: 'MILLION' };
}

function isStatic(o: GenEnvoyOptions): boolean {
  if (o.discovery === 'static') return true;
  if (o.discovery === 'strict-dns') return false;
  return o.addresses.every((a) => isIP(hostOf(a)) !== 0);
}

/** The cluster lb_policy for these options. */
export function lbPolicy(o: GenEnvoyOptions): 'RING_HASH' | 'ROUND_ROBIN' | 'LEAST_REQUEST' {
  if (o.lb === 'ring-hash') return 'RING_HASH';
  if (o.lb === 'round-robin') return 'ROUND_ROBIN';
  if (o.lb === 'least-request') return 'LEAST_REQUEST';
  return o.addresses.length > 1 ? 'RING_HASH' : 'ROUND_ROBIN';
}

/**
 * The shadow listener port the mirror cluster targets: HTTP/2 copies go to the dedicated h2c
 * port, where sockets reach the HTTP/2 session natively (the shared port peeks at each
 * connection and relays h2c through a JS stream, several times slower); HTTP/1.1 copies go to
 * the shared port.
 */
export function mirrorPort(o: GenEnvoyOptions): number {
  return o.shadowProtocol === 'http2' ? o.shadowH2cPort : o.shadowPort;
}

function healthCheckPort(o: GenEnvoyOptions): number | undefined {
  if (o.healthCheck === 'admin') return o.adminPort;
  // Probes speak the mirror's protocol, so they go to the port that serves it.
  if (o.healthCheck === 'shadow') return mirrorPort(o);
  return undefined;
}

function loadAssignment(o: GenEnvoyOptions, name: string, port: number): Json {
  const hcPort = healthCheckPort(o);
  return {
    cluster_name: name,
    endpoints: [
      {
        lb_endpoints: o.addresses.map((a) => ({
          endpoint: {
            address: { socket_address: { address: hostOf(a), port_value: port } },
            // Health checks go to another port of the same process when it is not the traffic port.
            ...(hcPort !== undefined && hcPort !== port ? { health_check_config: { port_value: hcPort } } : {}),
          },
        })),
      },
    ],
  };
}

/** Header Envoy's health checks carry (with user-agent Envoy/HC): the shadow listener answers them with readiness. */
export const HEALTH_CHECK_HEADER = 'x-shadowtap-health-check';

function healthChecks(o: GenEnvoyOptions): Json[] {
  if (o.healthCheck === 'none') return [];
  // The shadow listener answers a marked /readyz probe with 200 (ready) or 503 (shutting
  // down) over HTTP/1.1 (shared port) and h2c (h2c port); the admin server answers /readyz
  // likewise over HTTP/1.1 only.
  const codec = o.healthCheck === 'admin' || o.shadowProtocol === 'http1' ? 'HTTP1' : 'HTTP2';
  return [
    {
      timeout: '1s',
      interval: '5s',
      interval_jitter: '1s',
      unhealthy_threshold: 2,
      healthy_threshold: 1,
      no_traffic_interval: '5s',
      http_health_check: {
        path: '/readyz',
        codec_client_type: codec,
        expected_statuses: [{ start: 200, end: 300 }],
        // Marks probes so the shadow listener can tell them from mirrored traffic.
        request_headers_to_add: [
          { header: { key: HEALTH_CHECK_HEADER, value: '1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        ],
      },
    },
  ];
}

function outlierDetection(): Json {
  return {
    // Connect failures, resets and timeouts (local origin) eject a replica quickly.
    split_external_local_origin_errors: true,
    consecutive_local_origin_failure: 3,
    consecutive_gateway_failure: 3,
    consecutive_5xx: 5,
    interval: '5s',
    base_ejection_time: '30s',
    max_ejection_percent: 50,
  };
}

function protocolOptions(http2: boolean, idleMs: number): Json {
  return {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      // Closed by Envoy before shadowtap's own idle timeout (60 s) so a request never races a close.
      common_http_protocol_options: { idle_timeout: seconds(idleMs) },
      explicit_http_config: http2
        ? { http2_protocol_options: { connection_keepalive: { interval: '30s', timeout: '5s' } } }
        : { http_protocol_options: {} },
    },
  };
}

function tlsSocket(o: GenEnvoyOptions): Json | undefined {
  if (!o.tls) return undefined;
  const sni = o.tls.sni ?? (isIP(hostOf(o.addresses[0]!)) === 0 ? hostOf(o.addresses[0]!) : undefined);
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      ...(sni ? { sni } : {}),
      common_tls_context: {
        alpn_protocols: ['h2'],
        ...(o.tls.certFile && o.tls.keyFile
          ? {
              tls_certificates: [
                { certificate_chain: { filename: o.tls.certFile }, private_key: { filename: o.tls.keyFile } },
              ],
            }
          : {}),
        validation_context: {
          trusted_ca: { filename: o.tls.caFile },
          ...(sni ? { match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: sni } }] } : {}),
        },
      },
    },
  };
}

function baseCluster(o: GenEnvoyOptions, name: string, port: number): Json {
  const policy = lbPolicy(o);
  return {
    name,
    type: isStatic(o) ? 'STATIC' : 'STRICT_DNS',
    ...(isStatic(o) ? {} : { dns_lookup_family: 'V4_PREFERRED', dns_refresh_rate: '5s', respect_dns_ttl: true }),
    connect_timeout: seconds(o.connectTimeoutMs),
    lb_policy: policy,
    ...(policy === 'RING_HASH' ? { ring_hash_lb_config: { minimum_ring_size: 1024, maximum_ring_size: 8192 } } : {}),
    load_assignment: loadAssignment(o, name, port),
  };
}

/** The cluster request_mirror_policies send copies to: shadowtap's shadow listener. */
export function buildMirrorCluster(o: GenEnvoyOptions): Json {
  const name = mirrorClusterName(o);
  return {
    ...baseCluster(o, name, mirrorPort(o)),
    typed_extension_protocol_options: protocolOptions(o.shadowProtocol === 'http2', 50_000),
    circuit_breakers: {
      thresholds: [
        {
          priority: 'DEFAULT',
          // Past max_requests in flight (and a short pending queue) a copy overflows
          // (upstream_rq_pending_overflow) and is dropped by Envoy instead of queueing behind a slow shadowtap.
          max_connections: o.maxRequests,
          max_pending_requests: o.maxPendingRequests,
          max_requests: o.maxRequests,
          max_retries: 0,
          track_remaining: true,
        },
      ],
    },
    outlier_detection: outlierDetection(),
    ...(o.healthCheck === 'none' ? {} : { health_checks: healthChecks(o) }),
    // No healthy replica: drop copies rather than spread them over replicas known to be down.
    common_lb_config: { healthy_panic_threshold: { value: 0 } },
  };
}

/** The gRPC cluster the ext_proc filter streams to: shadowtap's gRPC port (always HTTP/2). */
export function buildExtProcCluster(o: GenEnvoyOptions): Json {
  const name = extProcClusterName(o);
  const tls = tlsSocket(o);
  return {
    ...baseCluster(o, name, o.grpcPort),
    typed_extension_protocol_options: protocolOptions(true, 300_000),
    circuit_breakers: {
      thresholds: [
        {
          priority: 'DEFAULT',
          max_connections: 64,
          max_pending_requests: o.maxPendingRequests,
          max_requests: o.extProcMaxRequests,
          max_retries: 0,
          track_remaining: true,
        },
      ],
    },
    outlier_detection: outlierDetection(),
    ...(o.healthCheck === 'none' ? {} : { health_checks: healthChecks(o) }),
    // Fail-open filters lose nothing by skipping a down replica; fail-closed ones keep Envoy's panic routing.
    ...(o.failureModeAllow ? { common_lb_config: { healthy_panic_threshold: { value: 0 } } } : {}),
    ...(tls ? { transport_socket: tls } : {}),
  };
}

/** The clusters to add for these options. */
export function buildClusters(o: GenEnvoyOptions): Json[] {
  const out: Json[] = [];
  if (o.mirror) out.push(buildMirrorCluster(o));
  if (o.extProc !== 'off') out.push(buildExtProcCluster(o));
  return out;
}

/** RouteAction/VirtualHost `request_mirror_policies`. */
export function buildMirrorPolicies(o: GenEnvoyOptions): Json[] {
  if (!o.mirror) return [];
  return [
    {
      cluster: mirrorClusterName(o),
      runtime_fraction: { default_value: fractionalPercent(o.mirrorPercent), runtime_key: o.runtimeKey },
      ...(o.disableShadowHostSuffixAppend ? { disable_shadow_host_suffix_append: true } : {}),
      ...(o.shadowHostRewrite !== undefined ? { host_rewrite_literal: o.shadowHostRewrite } : {}),
    },
  ];
}

/** The envoy.filters.http.ext_proc HttpFilter (typed ExternalProcessor), or undefined when off. */
export function buildExtProcFilter(o: GenEnvoyOptions, clusterName = extProcClusterName(o)): Json | undefined {
  if (o.extProc === 'off') return undefined;
  const pm = o.processingMode;
  const config: Json = {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
    grpc_service: { envoy_grpc: { cluster_name: clusterName } },
    stat_prefix: 'shadowtap',
    failure_mode_allow: o.failureModeAllow,
    processing_mode: {
      request_header_mode: pm.requestHeaderMode,
      response_header_mode: pm.responseHeaderMode,
      request_body_mode: pm.requestBodyMode,
      response_body_mode: pm.responseBodyMode,
      request_trailer_mode: 'SKIP',
      response_trailer_mode: 'SKIP',
    },
  };
  // Observability mode never waits for an answer, so a message timeout would only mislead.
  if (o.extProc === 'observability') config['observability_mode'] = true;
  else config['message_timeout'] = seconds(o.messageTimeoutMs);
  // Inline mode analyses without ever deciding: Envoy ignores an immediate response even if sent.
  if (o.extProc === 'inline') config['disable_immediate_response'] = true;
  return { name: 'envoy.filters.http.ext_proc', typed_config: config };
}

function routerFilter(): Json {
  return {
    name: 'envoy.filters.http.router',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
  };
}

function socketAddress(address: string, port: number): Json {
  return { socket_address: { address, port_value: port } };
}

function hcm(statPrefix: string, routeConfig: Json, httpFilters: Json[], remote: boolean): Json {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: statPrefix,
      codec_type: 'AUTO',
      // Edge proxy: Envoy appends the client address to x-forwarded-for, which the copies carry.
      ...(remote ? { use_remote_address: true } : {}),
      route_config: routeConfig,
      http_filters: httpFilters,
    },
  };
}

/** Routes of the bootstrap's virtual host: mirrored prefixes first, then the catch-all. */
export function buildRoutes(o: GenEnvoyOptions, upstreamCluster: string): Json[] {
  const onRoute = o.mirrorScope === 'route' ? buildMirrorPolicies(o) : [];
  const route = (prefix: string, mirrored: boolean): Json => ({
    match: { prefix },
    route: {
      cluster: upstreamCluster,
      timeout: '15s',
      ...(mirrored && onRoute.length ? { request_mirror_policies: onRoute } : {}),
    },
  });
  if (o.mirrorRoutes.length === 0) return [route('/', true)];
  return [...o.mirrorRoutes.map((p) => route(p, true)), route('/', false)];
}

export const DEMO_UPSTREAM_PORT_OFFSET = 1;

/** A complete runnable Envoy bootstrap: listener → demo upstream, mirror, ext_proc, admin. */
export function buildBootstrap(o: GenEnvoyOptions): Json {
  const upstreamPort = o.listenerPort + DEMO_UPSTREAM_PORT_OFFSET;
  const filters = [buildExtProcFilter(o), routerFilter()].filter((f): f is Json => f !== undefined);
  const vhostMirror = o.mirrorScope === 'virtual-host' ? buildMirrorPolicies(o) : [];
  return {
    node: { id: 'shadowtap-demo', cluster: 'shadowtap-demo' },
    admin: { address: socketAddress('127.0.0.1', o.envoyAdminPort) },
    // Lets operators change the mirrored fraction at run time: POST /runtime_modify?<key>=<n>.
    layered_runtime: { layers: [{ name: 'admin', admin_layer: {} }] },
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: socketAddress('0.0.0.0', o.listenerPort),
          filter_chains: [
            {
              filters: [
                hcm(
                  'ingress',
                  {
                    name: 'ingress',
                    virtual_hosts: [
                      {
                        name: 'app',
                        domains: o.domains,
                        routes: buildRoutes(o, 'demo_upstream'),
                        ...(vhostMirror.length ? { request_mirror_policies: vhostMirror } : {}),
                      },
                    ],
                  },
                  filters,
                  true,
                ),
              ],
            },
          ],
        },
        {
          // Stands in for your application so the bootstrap runs with nothing but Envoy and shadowtap.
          name: 'demo_upstream',
          address: socketAddress('127.0.0.1', upstreamPort),
          filter_chains: [
            {
              filters: [
                hcm(
                  'demo_upstream',
                  {
                    name: 'demo_upstream',
                    virtual_hosts: [
                      {
                        name: 'demo',
                        domains: ['*'],
                        routes: [
                          {
                            match: { prefix: '/' },
                            direct_response: { status: 200, body: { inline_string: 'hello from the demo upstream\n' } },
                          },
                        ],
                      },
                    ],
                  },
                  [routerFilter()],
                  false,
                ),
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'demo_upstream',
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: 'demo_upstream',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress('127.0.0.1', upstreamPort) } }] }],
          },
        },
        ...buildClusters(o),
      ],
    },
  };
}
