import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import {
  buildBootstrap,
  buildClusters,
  buildExtProcFilter,
  buildMirrorPolicies,
  fractionalPercent,
  resolveGenOptions,
  type ExtProcMode,
  type GenEnvoyInput,
} from '../src/envoy/gen-envoy.js';
import { parseGenEnvoyArgs, renderEnvoyOutput } from '../src/envoy/gen-envoy-args.js';
import { buildEnvoyExtensionPolicy, buildHttpRoute } from '../src/envoy/output-gateway-api.js';
import { buildIstioEnvoyFilter, istioOutboundCluster } from '../src/envoy/output-istio.js';
import { renderNginx } from '../src/envoy/output-nginx.js';
import { buildSnippet, renderSnippet } from '../src/envoy/output-snippet.js';
import { parseEnvoyText, validateEnvoyConfig } from '../src/envoy/validate-envoy.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- config objects are walked by path in assertions
type Cfg = any;

function valid(doc: unknown, type: string, extra: { envoyVersion?: string; knownClusters?: string[] } = {}): void {
  const r = validateEnvoyConfig(doc, { type, ...extra });
  assert.deepEqual(r.errors, [], `not valid as ${type}`);
}

function snippetOf(input: GenEnvoyInput): Cfg {
  const o = resolveGenOptions(input);
  const s = buildSnippet(o);
  valid(s, 'snippet', { envoyVersion: o.envoyVersion });
  return s;
}

function yamlDocs(text: string): Cfg[] {
  return parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS();
  });
}

/** NGINX config structure: balanced braces, every directive terminated. */
function checkNginxStructure(text: string): void {
  let depth = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    if (line.endsWith('{')) depth++;
    else if (line === '}') depth--;
    else assert.ok(line.endsWith(';'), `unterminated directive: ${line}`);
    assert.ok(depth >= 0, 'unbalanced }');
  }
  assert.equal(depth, 0, 'unbalanced {');
}

describe('gen-envoy: clusters and mirror policy', () => {
  it('defaults: one HTTP/1.1 mirror cluster to the shared port 127.0.0.1:8080 with production settings', () => {
    const s = snippetOf({});
    assert.deepEqual(Object.keys(s), ['clusters', 'request_mirror_policies']);
    assert.equal(s.clusters.length, 1);
    const c = s.clusters[0];
    assert.equal(c.name, 'shadowtap');
    assert.equal(c.type, 'STATIC');
    assert.equal(c.lb_policy, 'ROUND_ROBIN');
    assert.equal(c.connect_timeout, '0.25s');
    assert.deepEqual(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, {
      address: '127.0.0.1',
      port_value: 8080,
    });
    // Probes go to the traffic port itself: no separate health check port.
    assert.equal(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.health_check_config, undefined);
    const proto = c.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    assert.deepEqual(proto.explicit_http_config, { http_protocol_options: {} });
    const cb = c.circuit_breakers.thresholds[0];
    assert.equal(cb.max_pending_requests, 16);
    assert.equal(cb.max_requests, 1024);
    assert.equal(cb.max_retries, 0);
    assert.equal(c.health_checks[0].http_health_check.path, '/readyz');
    assert.equal(c.health_checks[0].http_health_check.codec_client_type, 'HTTP1');
    assert.deepEqual(c.health_checks[0].http_health_check.expected_statuses, [{ start: 200, end: 300 }]);
    assert.ok(c.outlier_detection.consecutive_gateway_failure > 0);
    assert.equal(c.common_lb_config.healthy_panic_threshold.value, 0);
    assert.deepEqual(s.request_mirror_policies, [
      {
        cluster: 'shadowtap',
        runtime_fraction: {
          default_value: { numerator: 100, denominator: 'HUNDRED' },
          runtime_key: 'shadowtap.mirror',
        },
      },
    ]);
  });

  it('several IP replicas: STATIC with RING_HASH; a DNS name: STRICT_DNS', () => {
    const s = snippetOf({ addresses: ['10.0.0.1', '10.0.0.2', '::1'] });
    assert.equal(s.clusters[0].type, 'STATIC');
    assert.equal(s.clusters[0].lb_policy, 'RING_HASH');
    assert.equal(s.clusters[0].load_assignment.endpoints[0].lb_endpoints.length, 3);
    const d = snippetOf({ addresses: ['shadowtap.internal'] });
    assert.equal(d.clusters[0].type, 'STRICT_DNS');
    assert.equal(d.clusters[0].dns_lookup_family, 'V4_PREFERRED');
    assert.equal(
      snippetOf({ addresses: ['a.example', 'b.example'], lb: 'least-request' }).clusters[0].lb_policy,
      'LEAST_REQUEST',
    );
    assert.throws(() => resolveGenOptions({ addresses: ['shadowtap'], discovery: 'static' }), /needs IP addresses/);
    assert.throws(() => resolveGenOptions({ addresses: ['bad host'] }), /not a host name or IP address/);
  });

  it('mirror fractions use the smallest exact denominator', () => {
    assert.deepEqual(fractionalPercent(25), { numerator: 25, denominator: 'HUNDRED' });
    assert.deepEqual(fractionalPercent(12.5), { numerator: 1250, denominator: 'TEN_THOUSAND' });
    assert.deepEqual(fractionalPercent(33.33), { numerator: 3333, denominator: 'TEN_THOUSAND' });
    assert.deepEqual(fractionalPercent(0.0001), { numerator: 1, denominator: 'MILLION' });
    assert.equal(
      snippetOf({ mirrorPercent: 0.5, runtimeKey: 'x.y' }).request_mirror_policies[0].runtime_fraction.runtime_key,
      'x.y',
    );
    assert.throws(() => resolveGenOptions({ mirrorPercent: 101 }), /0-100/);
    assert.throws(() => resolveGenOptions({ mirrorPercent: 0.00001 }), /at most 4 decimals/);
  });

  it('disable_shadow_host_suffix_append needs Envoy 1.31; host_rewrite_literal needs 1.36 and an explicit version', () => {
    const s = snippetOf({ disableShadowHostSuffixAppend: true });
    assert.equal(s.request_mirror_policies[0].disable_shadow_host_suffix_append, true);
    assert.throws(
      () => resolveGenOptions({ disableShadowHostSuffixAppend: true, envoyVersion: '1.30' }),
      /needs Envoy 1\.31/,
    );
    assert.throws(
      () => resolveGenOptions({ shadowHostRewrite: 'shadow.example' }),
      /needs Envoy 1\.36\+.*--envoy-version 1\.36/,
    );
    const o = resolveGenOptions({ shadowHostRewrite: 'shadow.example', envoyVersion: '1.36' });
    const policies = buildMirrorPolicies(o);
    assert.equal(policies[0]!['host_rewrite_literal'], 'shadow.example');
    // The shipped protos do not have the field: accepted only for a target version that has it.
    valid({ request_mirror_policies: policies, clusters: buildClusters(o) }, 'snippet', { envoyVersion: '1.36' });
    assert.equal(
      validateEnvoyConfig({ request_mirror_policies: policies, clusters: buildClusters(o) }, { type: 'snippet' }).ok,
      false,
    );
  });

  it('HTTP/1.1 to the shared shadow port, HTTP/2 to the dedicated h2c port, probes with them', () => {
    const c = snippetOf({ shadowProtocol: 'http1' }).clusters[0];
    const proto = c.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    assert.deepEqual(proto.explicit_http_config, { http_protocol_options: {} });
    assert.equal(c.health_checks[0].http_health_check.codec_client_type, 'HTTP1');
    const endpoint = (x: Cfg) => x.load_assignment.endpoints[0].lb_endpoints[0].endpoint;
    assert.equal(endpoint(c).address.socket_address.port_value, 8080);
    assert.equal(endpoint(c).health_check_config, undefined);
    const h2 = snippetOf({ shadowProtocol: 'http2', shadowPort: 7000, shadowH2cPort: 7001 }).clusters[0];
    assert.ok(
      h2.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config
        .http2_protocol_options,
    );
    assert.equal(endpoint(h2).address.socket_address.port_value, 7001);
    assert.equal(endpoint(h2).health_check_config, undefined);
    assert.equal(h2.health_checks[0].http_health_check.codec_client_type, 'HTTP2');
    const h1 = snippetOf({ shadowProtocol: 'http1', shadowPort: 7000, shadowH2cPort: 7001 }).clusters[0];
    assert.equal(endpoint(h1).address.socket_address.port_value, 7000);
    // shadow.h2cPort disabled on the server: HTTP/2 copies can still use the shared port.
    const shared = snippetOf({ shadowProtocol: 'http2', shadowPort: 7000, shadowH2cPort: 7000 }).clusters[0];
    assert.equal(endpoint(shared).address.socket_address.port_value, 7000);
    assert.throws(() => resolveGenOptions({ shadowH2cPort: 0 }), /shadow h2c port must be a port/);
  });

  it('health checks: admin port via health_check_config, or none', () => {
    const c = snippetOf({ healthCheck: 'admin', adminPort: 9191 }).clusters[0];
    assert.equal(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.health_check_config.port_value, 9191);
    assert.equal(c.health_checks[0].http_health_check.codec_client_type, 'HTTP1');
    const n = snippetOf({ healthCheck: 'none' }).clusters[0];
    assert.equal(n.health_checks, undefined);
    assert.equal(n.load_assignment.endpoints[0].lb_endpoints[0].endpoint.health_check_config, undefined);
  });

  it('nothing to generate is an error', () => {
    assert.throws(() => resolveGenOptions({ mirror: false }), /nothing to generate/);
  });
});

describe('gen-envoy: ext_proc', () => {
  const modes: ExtProcMode[] = ['observability', 'inline', 'blocking'];

  for (const mode of modes) {
    it(`${mode}: the filter and the gRPC cluster validate; mirroring is off unless asked`, () => {
      const s = snippetOf({ extProc: mode, addresses: ['shadowtap.internal'] });
      assert.deepEqual(Object.keys(s), ['clusters', 'http_filters']);
      assert.equal(s.clusters[0].name, 'shadowtap_ext_proc');
      assert.equal(
        s.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value,
        50051,
      );
      // The gRPC port serves no /readyz: health checks go to the shadow port of the same replica,
      // in the mirror protocol (HTTP/1.1 to the shared port by default).
      assert.equal(
        s.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.health_check_config.port_value,
        8080,
      );
      assert.equal(s.clusters[0].health_checks[0].http_health_check.codec_client_type, 'HTTP1');
      const f = s.http_filters[0];
      assert.equal(f.name, 'envoy.filters.http.ext_proc');
      assert.equal(f.typed_config.grpc_service.envoy_grpc.cluster_name, 'shadowtap_ext_proc');
      assert.equal(f.typed_config.failure_mode_allow, true);
      // Observability mode never waits, so it gets no message timeout.
      assert.equal(f.typed_config.message_timeout, mode === 'observability' ? undefined : '0.2s');
      valid(f.typed_config, 'ext_proc');
      const both = snippetOf({ extProc: mode, mirror: true });
      assert.deepEqual(Object.keys(both), ['clusters', 'request_mirror_policies', 'http_filters']);
      assert.deepEqual(
        both.clusters.map((c: { name: string }) => c.name),
        ['shadowtap', 'shadowtap_ext_proc'],
      );
    });
  }

  it('mode specifics: observability streams, inline never blocks, blocking skips the response', () => {
    const obs = buildExtProcFilter(resolveGenOptions({ extProc: 'observability' }))!['typed_config'] as Cfg;
    assert.equal(obs.observability_mode, true);
    assert.equal(obs.processing_mode.request_body_mode, 'STREAMED');
    assert.equal(obs.processing_mode.response_body_mode, 'STREAMED');
    const inline = buildExtProcFilter(resolveGenOptions({ extProc: 'inline' }))!['typed_config'] as Cfg;
    assert.equal(inline.observability_mode, undefined);
    assert.equal(inline.disable_immediate_response, true);
    assert.equal(inline.processing_mode.request_body_mode, 'BUFFERED_PARTIAL');
    const blocking = buildExtProcFilter(resolveGenOptions({ extProc: 'blocking' }))!['typed_config'] as Cfg;
    assert.equal(blocking.disable_immediate_response, undefined);
    assert.equal(blocking.processing_mode.response_header_mode, 'SKIP');
    assert.equal(buildExtProcFilter(resolveGenOptions({})), undefined);
  });

  it('processing mode flags override the mode defaults one by one', () => {
    const o = resolveGenOptions({
      extProc: 'inline',
      processingMode: { responseHeaderMode: 'SKIP', requestBodyMode: 'NONE' },
      messageTimeoutMs: 150,
    });
    const tc = buildExtProcFilter(o)!['typed_config'] as Cfg;
    assert.equal(tc.processing_mode.request_header_mode, 'SEND');
    assert.equal(tc.processing_mode.response_header_mode, 'SKIP');
    assert.equal(tc.processing_mode.request_body_mode, 'NONE');
    assert.equal(tc.message_timeout, '0.15s');
    assert.throws(
      () => resolveGenOptions({ extProc: 'observability', processingMode: { requestBodyMode: 'BUFFERED' } }),
      /observability mode sends bodies only STREAMED/,
    );
  });

  it('fail closed keeps Envoy panic routing on the ext_proc cluster', () => {
    const s = snippetOf({ extProc: 'blocking', failureModeAllow: false });
    assert.equal(s.http_filters[0].typed_config.failure_mode_allow, false);
    assert.equal(s.clusters[0].common_lb_config, undefined);
  });

  it('TLS and mTLS to the gRPC port', () => {
    const s = snippetOf({
      extProc: 'observability',
      addresses: ['shadowtap.internal'],
      tls: { caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' },
    });
    const ts = s.clusters[0].transport_socket;
    assert.equal(ts.name, 'envoy.transport_sockets.tls');
    assert.equal(ts.typed_config.sni, 'shadowtap.internal');
    assert.deepEqual(ts.typed_config.common_tls_context.alpn_protocols, ['h2']);
    assert.equal(ts.typed_config.common_tls_context.tls_certificates[0].private_key.filename, '/k.pem');
    assert.equal(ts.typed_config.common_tls_context.validation_context.trusted_ca.filename, '/ca.pem');
    assert.throws(
      () => resolveGenOptions({ extProc: 'inline', tls: { caFile: '/ca.pem', certFile: '/c.pem' } }),
      /both --tls-cert and --tls-key/,
    );
  });
});

describe('gen-envoy: following the snippet comments yields a valid Envoy config', () => {
  for (const extProc of ['off', 'observability', 'inline', 'blocking'] as const) {
    it(`pasting the ${extProc === 'off' ? 'mirror' : extProc} snippet into an existing bootstrap`, () => {
      const snippet = snippetOf({ extProc, mirror: true, addresses: ['shadowtap.internal'] });
      // A user's bootstrap: one listener, one route, the router, one application cluster.
      const hcm: Cfg = {
        '@type':
          'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
        stat_prefix: 'ingress',
        route_config: {
          virtual_hosts: [
            { name: 'app', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'my_app' } }] },
          ],
        },
        http_filters: [
          {
            name: 'envoy.filters.http.router',
            typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
          },
        ],
      };
      const user: Cfg = {
        static_resources: {
          listeners: [
            {
              name: 'ingress',
              address: { socket_address: { address: '0.0.0.0', port_value: 8000 } },
              filter_chains: [
                { filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }] },
              ],
            },
          ],
          clusters: [
            {
              name: 'my_app',
              type: 'STRICT_DNS',
              connect_timeout: '1s',
              load_assignment: {
                cluster_name: 'my_app',
                endpoints: [
                  { lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'app', port_value: 80 } } } }] },
                ],
              },
            },
          ],
        },
      };
      valid(user, 'bootstrap');
      // 1. clusters → static_resources.clusters; 2. mirror block → the route action; 3. filter before the router.
      user.static_resources.clusters.push(...snippet.clusters);
      hcm.route_config.virtual_hosts[0].routes[0].route.request_mirror_policies = snippet.request_mirror_policies;
      if (snippet.http_filters) hcm.http_filters.unshift(...snippet.http_filters);
      valid(user, 'bootstrap');
      // Pasting the filter after the router instead is caught.
      if (snippet.http_filters) {
        hcm.http_filters.push(hcm.http_filters.shift());
        assert.equal(validateEnvoyConfig(user).ok, false);
      }
    });
  }
});

describe('gen-envoy: bootstrap', () => {
  it('validates for every ext_proc mode, scope and route selection', () => {
    for (const extProc of ['off', 'observability', 'inline', 'blocking'] as const) {
      for (const mirrorScope of ['route', 'virtual-host'] as const) {
        for (const mirrorRoutes of [[], ['/api', '/login']]) {
          const o = resolveGenOptions({
            extProc,
            mirror: true,
            mirrorScope,
            mirrorRoutes,
            addresses: ['10.0.0.1', '10.0.0.2'],
          });
          valid(buildBootstrap(o), 'bootstrap');
        }
      }
    }
  });

  it('mirrors the chosen prefixes and not the catch-all', () => {
    const b = buildBootstrap(resolveGenOptions({ mirrorRoutes: ['/api'] })) as Cfg;
    const vh = b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0];
    assert.deepEqual(
      vh.routes.map((r: Cfg) => [r.match.prefix, Boolean(r.route.request_mirror_policies)]),
      [
        ['/api', true],
        ['/', false],
      ],
    );
    const v = buildBootstrap(resolveGenOptions({ mirrorScope: 'virtual-host' })) as Cfg;
    const vh2 = v.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0];
    assert.equal(vh2.request_mirror_policies[0].cluster, 'shadowtap');
    assert.equal(vh2.routes[0].route.request_mirror_policies, undefined);
  });

  it('puts ext_proc before the router', () => {
    const b = buildBootstrap(resolveGenOptions({ extProc: 'observability' })) as Cfg;
    const names = b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters.map(
      (f: Cfg) => f.name,
    );
    assert.deepEqual(names, ['envoy.filters.http.ext_proc', 'envoy.filters.http.router']);
  });
});

describe('gen-envoy: rendered outputs', () => {
  it('the rendered snippet YAML (with comments) parses back to the validated objects', () => {
    const o = resolveGenOptions({ extProc: 'observability', mirror: true, addresses: ['10.0.0.1', '10.0.0.2'] });
    const text = renderSnippet(o, 'shadowtap gen-envoy');
    assert.deepEqual(parseEnvoyText(text), buildSnippet(o));
    assert.match(text, /# 1\. Add these clusters to static_resources\.clusters/);
    assert.match(text, /# 2\. Add this block under the `route:` action/);
    assert.match(text, /# 3\. Add this HTTP filter .*before envoy\.filters\.http\.router/s);
  });

  it('bootstrap YAML parses back and validates', () => {
    const req = parseGenEnvoyArgs(['--output', 'bootstrap', '--ext-proc', 'inline', '--mirror']);
    valid(parseEnvoyText(renderEnvoyOutput(req.format, req.options, 'cmd')), 'bootstrap');
  });

  it('istio: VirtualService mirror, DestinationRule pool, EnvoyFilter whose patch is a valid ext_proc filter', () => {
    const req = parseGenEnvoyArgs([
      '--output',
      'istio',
      '--ext-proc',
      'observability',
      '--mirror',
      '--mirror-percent',
      '10',
      '--route',
      '/api',
    ]);
    const docs = yamlDocs(renderEnvoyOutput(req.format, req.options, 'cmd'));
    assert.deepEqual(
      docs.map((d) => `${d.apiVersion}/${d.kind}`),
      [
        'networking.istio.io/v1beta1/VirtualService',
        'networking.istio.io/v1beta1/DestinationRule',
        'networking.istio.io/v1alpha3/EnvoyFilter',
      ],
    );
    const [vs, dr, ef] = docs;
    assert.deepEqual(vs.spec.hosts, ['my-app.default.svc.cluster.local']);
    assert.deepEqual(vs.spec.http[0].match, [{ uri: { prefix: '/api' } }]);
    assert.deepEqual(vs.spec.http[0].mirror, { host: 'shadowtap.shadowtap.svc.cluster.local', port: { number: 8080 } });
    assert.deepEqual(vs.spec.http[0].mirrorPercentage, { value: 10 });
    assert.equal(vs.spec.http[1].mirror, undefined);
    assert.equal(dr.spec.host, 'shadowtap.shadowtap.svc.cluster.local');
    // HTTP/1.1 to the shared port by default; h2c (--shadow-protocol http2) asks the sidecar to upgrade.
    assert.equal(dr.spec.trafficPolicy.connectionPool.http.h2UpgradePolicy, undefined);
    assert.equal(dr.spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests, 16);
    const patch = ef.spec.configPatches[0];
    assert.equal(patch.applyTo, 'HTTP_FILTER');
    assert.equal(patch.patch.operation, 'INSERT_BEFORE');
    assert.equal(patch.match.listener.filterChain.filter.subFilter.name, 'envoy.filters.http.router');
    assert.equal(istioOutboundCluster(req.options), 'outbound|50051||shadowtap.shadowtap.svc.cluster.local');
    assert.equal(
      patch.patch.value.typed_config.grpc_service.envoy_grpc.cluster_name,
      istioOutboundCluster(req.options),
    );
    valid(patch.patch.value, 'http_filter', { knownClusters: [istioOutboundCluster(req.options)] });
    // ...and the validator would catch a broken patch value.
    patch.patch.value.typed_config.processing_mode.request_body_mode = 'BUFFERED';
    assert.equal(
      validateEnvoyConfig(patch.patch.value, {
        type: 'http_filter',
        knownClusters: [istioOutboundCluster(req.options)],
      }).ok,
      false,
    );
    assert.equal(buildIstioEnvoyFilter(resolveGenOptions({})), undefined);
  });

  it('gateway-api: HTTPRoute RequestMirror and an Envoy Gateway EnvoyExtensionPolicy', () => {
    const req = parseGenEnvoyArgs([
      '--output',
      'gateway-api',
      '--ext-proc',
      'inline',
      '--mirror',
      '--mirror-percent',
      '10',
    ]);
    const docs = yamlDocs(renderEnvoyOutput(req.format, req.options, 'cmd'));
    assert.deepEqual(
      docs.map((d) => `${d.apiVersion}/${d.kind}`),
      ['gateway.networking.k8s.io/v1/HTTPRoute', 'gateway.envoyproxy.io/v1alpha1/EnvoyExtensionPolicy'],
    );
    const [route, policy] = docs;
    assert.deepEqual(route.spec.parentRefs, [{ name: 'eg' }]);
    const rule = route.spec.rules[0];
    assert.deepEqual(rule.filters[0], {
      type: 'RequestMirror',
      requestMirror: { backendRef: { name: 'shadowtap', namespace: 'shadowtap', port: 8080 }, percent: 10 },
    });
    assert.deepEqual(rule.backendRefs, [{ name: 'my-app', port: 80 }]);
    assert.deepEqual(policy.spec.targetRefs, [
      { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'my-app' },
    ]);
    const ep = policy.spec.extProc[0];
    assert.deepEqual(ep.backendRefs, [{ name: 'shadowtap', namespace: 'shadowtap', port: 50051 }]);
    assert.deepEqual(ep.processingMode, { request: { body: 'BufferedPartial' }, response: {} });
    assert.equal(ep.messageTimeout, '200ms');
    assert.equal(ep.failOpen, true);
    const frac = buildHttpRoute(resolveGenOptions({ mirrorPercent: 12.5 })) as Cfg;
    assert.deepEqual(frac.spec.rules[0].filters[0].requestMirror.fraction, { numerator: 1250, denominator: 10000 });
    const h2 = buildHttpRoute(resolveGenOptions({ shadowProtocol: 'http2' })) as Cfg;
    assert.equal(h2.spec.rules[0].filters[0].requestMirror.backendRef.port, 8081);
    const all = buildHttpRoute(resolveGenOptions({})) as Cfg;
    assert.equal(all.spec.rules[0].filters[0].requestMirror.percent, undefined);
    const blocking = buildEnvoyExtensionPolicy(resolveGenOptions({ extProc: 'blocking' })) as Cfg;
    assert.deepEqual(blocking.spec.extProc[0].processingMode, { request: { body: 'BufferedPartial' } });
    assert.throws(
      () => buildEnvoyExtensionPolicy(resolveGenOptions({ extProc: 'observability' })),
      /no observability mode/,
    );
  });

  it('nginx: mirror + mirror_request_body, sampling, consistent hash over replicas', () => {
    const text = renderNginx(
      resolveGenOptions({ addresses: ['10.0.0.1', '::1'], mirrorPercent: 10, mirrorRoutes: ['/api'] }),
      'cmd',
    );
    checkNginxStructure(text);
    assert.match(
      text,
      /upstream shadowtap \{\n {4}server 10\.0\.0\.1:8080 max_fails=3 fail_timeout=10s;\n {4}server \[::1\]:8080 /,
    );
    assert.match(text, /hash \$remote_addr consistent;/);
    assert.match(text, /split_clients \$request_id \$shadowtap_mirror \{\n {4}10% 1;\n {4}\* "";\n\}/);
    assert.match(text, /location \/api \{\n {8}mirror \/_shadowtap_mirror;\n {8}mirror_request_body on;/);
    assert.match(text, /location = \/_shadowtap_mirror \{\n {8}internal;\n {8}if \(\$shadowtap_mirror = ""\) \{/);
    assert.match(text, /proxy_pass http:\/\/shadowtap\$request_uri;/);
    const all = renderNginx(resolveGenOptions({}), 'cmd');
    checkNginxStructure(all);
    assert.doesNotMatch(all, /split_clients|hash \$remote_addr/);
  });
});
