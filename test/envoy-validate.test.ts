import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEnvoyProtos } from '../src/envoy/envoy-protos.js';
import {
  assertValidEnvoy,
  compareVersions,
  parseEnvoyText,
  validateEnvoyConfig,
  type EnvoyValidation,
} from '../src/envoy/validate-envoy.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- config objects are walked by path in assertions
type Cfg = any;

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const EXT_PROC = 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor';

/** A small but complete bootstrap: listener → route (mirrored) → app, ext_proc filter, two clusters. */
function bootstrap(): Cfg {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } },
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '0.0.0.0', port_value: 10000 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': HCM,
                    stat_prefix: 'ingress',
                    route_config: {
                      virtual_hosts: [
                        {
                          name: 'app',
                          domains: ['*'],
                          routes: [
                            {
                              match: { prefix: '/' },
                              route: {
                                cluster: 'app',
                                timeout: '15s',
                                request_mirror_policies: [
                                  {
                                    cluster: 'shadowtap',
                                    runtime_fraction: {
                                      default_value: { numerator: 100, denominator: 'HUNDRED' },
                                      runtime_key: 'shadowtap.mirror',
                                    },
                                  },
                                ],
                              },
                            },
                          ],
                        },
                      ],
                    },
                    http_filters: [
                      {
                        name: 'envoy.filters.http.ext_proc',
                        typed_config: {
                          '@type': EXT_PROC,
                          grpc_service: { envoy_grpc: { cluster_name: 'shadowtap' } },
                          observability_mode: true,
                          processing_mode: { request_body_mode: 'STREAMED' },
                          message_timeout: '0.2s',
                        },
                      },
                      { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'app',
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: 'app',
            endpoints: [
              {
                lb_endpoints: [
                  { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 3000 } } } },
                ],
              },
            ],
          },
        },
        {
          name: 'shadowtap',
          type: 'STRICT_DNS',
          connect_timeout: '0.25s',
          load_assignment: {
            cluster_name: 'shadowtap',
            endpoints: [
              {
                lb_endpoints: [
                  { endpoint: { address: { socket_address: { address: 'shadowtap', port_value: 8080 } } } },
                ],
              },
            ],
          },
          circuit_breakers: { thresholds: [{ max_pending_requests: 16, max_requests: 1024 }] },
        },
      ],
    },
  };
}

const ROUTE =
  'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route';
const FILTERS = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters';

function only(result: EnvoyValidation): { path: string; message: string } {
  assert.equal(result.ok, false, 'expected the config to be rejected');
  assert.equal(result.errors.length, 1, `expected one error, got:\n${JSON.stringify(result.errors, null, 2)}`);
  return result.errors[0]!;
}

describe('validate-envoy: the Envoy API protos', () => {
  it('loads the shipped v3 protos once per process', () => {
    const a = loadEnvoyProtos();
    const b = loadEnvoyProtos();
    assert.equal(a, b);
    assert.ok(a.files.length > 300, `only ${a.files.length} files`);
    assert.ok(a.files.includes('envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto'));
    assert.ok(
      a.root.lookupType('envoy.config.route.v3.RouteAction.RequestMirrorPolicy').fields[
        'disable_shadow_host_suffix_append'
      ],
    );
  });
});

describe('validate-envoy: valid configurations', () => {
  it('accepts a complete bootstrap', () => {
    const r = validateEnvoyConfig(bootstrap());
    assert.deepEqual(r.errors, []);
    assert.equal(r.ok, true);
    assert.equal(r.type, 'envoy.config.bootstrap.v3.Bootstrap');
  });

  it('accepts lowerCamel json names as well as snake_case', () => {
    const b = bootstrap();
    const c = b.static_resources.clusters[0];
    c.connectTimeout = c.connect_timeout;
    delete c.connect_timeout;
    b.staticResources = b.static_resources;
    delete b.static_resources;
    assert.deepEqual(validateEnvoyConfig(b).errors, []);
  });

  it('accepts well-known types in their JSON forms', () => {
    const cluster = {
      name: 'c',
      type: 'STRICT_DNS',
      connect_timeout: '1.000000001s',
      per_connection_buffer_limit_bytes: 32768, // UInt32Value
      common_lb_config: { healthy_panic_threshold: { value: 0 } }, // Percent
      metadata: { filter_metadata: { 'shadowtap.io': { any: ['json', 1, true, null, { nested: 2.5 }] } } }, // Struct
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          explicit_http_config: { http2_protocol_options: {} }, // Empty-like message
        },
      },
      load_assignment: { cluster_name: 'c' },
    };
    assert.deepEqual(validateEnvoyConfig(cluster, { type: 'cluster' }).errors, []);
  });

  it('accepts the message form of Duration and wrappers, as Envoy does, with the same bounds', () => {
    const b = bootstrap();
    const ep = b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config;
    ep.message_timeout = { seconds: 2 };
    b.static_resources.clusters[1].connect_timeout = { seconds: '0', nanos: 250000000 };
    b.static_resources.clusters[1].per_connection_buffer_limit_bytes = { value: 32768 };
    assert.deepEqual(validateEnvoyConfig(b).errors, []);
    ep.message_timeout = { seconds: 3601 };
    const e = only(validateEnvoyConfig(b));
    assert.equal(e.path, `${FILTERS}[0].typed_config.message_timeout`);
    assert.match(e.message, /duration must be at most 3600s, got 3601s/);
    ep.message_timeout = { secs: 1 };
    assert.match(only(validateEnvoyConfig(b)).message, /unknown field "secs" in google\.protobuf\.Duration/);
  });

  it("accepts what Envoy's loader accepts, with warnings: lowercase enum names, a single value for a list", () => {
    const b = bootstrap();
    b.static_resources.clusters[1].type = 'strict_dns';
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].domains =
      '*';
    const r = validateEnvoyConfig(b);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.warnings.map((w) => w.path),
      [
        'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].domains',
        'static_resources.clusters[1].type',
      ],
    );
    b.static_resources.clusters[1].type = 'static';
    assert.match(only(validateEnvoyConfig(b)).message, /a STATIC cluster needs IP endpoints/);
    b.static_resources.clusters[1].type = 'STRICT_DNS';
    b.static_resources.clusters[1].load_assignment.endpoints = [null];
    assert.match(only(validateEnvoyConfig(b)).message, /null is not allowed in a list/);
  });

  it('accepts an Any holding a wrapper type, and 64-bit integers as strings', () => {
    const filter = {
      name: 'x',
      typed_config: { '@type': 'type.googleapis.com/google.protobuf.UInt32Value', value: 5 },
    };
    assert.deepEqual(validateEnvoyConfig(filter, { type: 'http_filter' }).errors, []);
    const hc = {
      timeout: '1s',
      interval: '5s',
      unhealthy_threshold: 2,
      healthy_threshold: 1,
      http_health_check: { path: '/readyz', expected_statuses: [{ start: '200', end: 300 }] },
    };
    assert.deepEqual(validateEnvoyConfig(hc, { type: 'health_check' }).errors, []);
  });

  it('assertValidEnvoy returns the result for a valid config', () => {
    assert.equal(assertValidEnvoy(bootstrap()).ok, true);
  });
});

describe('validate-envoy: corrupted configurations are rejected with the path', () => {
  it('a typo in a field name, with a suggestion', () => {
    const b = bootstrap();
    b.static_resources.clusters[1].conect_timeout = '1s';
    const e = only(validateEnvoyConfig(b));
    assert.equal(e.path, 'static_resources.clusters[1].conect_timeout');
    assert.match(
      e.message,
      /unknown field "conect_timeout" in envoy\.config\.cluster\.v3\.Cluster \(did you mean connect_timeout\?\)/,
    );
  });

  it('a wrong @type, inside a typed_config', () => {
    const b = bootstrap();
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[1].typed_config['@type'] =
      'type.googleapis.com/envoy.extensions.filters.http.router.v3.Routr';
    const e = only(validateEnvoyConfig(b));
    assert.equal(e.path, `${FILTERS}[1].typed_config.@type`);
    assert.match(
      e.message,
      /unknown @type .*Routr.*did you mean type\.googleapis\.com\/envoy\.extensions\.filters\.http\.router\.v3\.Router\?/,
    );
  });

  it('fields of the type an Any names are checked', () => {
    const b = bootstrap();
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.observabilty_mode = true;
    const e = only(validateEnvoyConfig(b));
    assert.equal(e.path, `${FILTERS}[0].typed_config.observabilty_mode`);
    assert.match(e.message, /ExternalProcessor \(did you mean observability_mode\?\)/);
  });

  it('an Any without @type, and v2 types', () => {
    const f1 = { name: 'x', typed_config: { dynamic_stats: true } };
    assert.match(only(validateEnvoyConfig(f1, { type: 'http_filter' })).message, /missing "@type"/);
    const f2 = {
      name: 'x',
      typed_config: { '@type': 'type.googleapis.com/envoy.config.filter.http.router.v2.Router' },
    };
    assert.match(only(validateEnvoyConfig(f2, { type: 'http_filter' })).message, /v2 API types were removed/);
  });

  it('a dangling cluster name in a mirror policy', () => {
    const b = bootstrap();
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.request_mirror_policies[0].cluster =
      'shadowtapp';
    const e = only(validateEnvoyConfig(b));
    assert.equal(e.path, `${ROUTE}.request_mirror_policies[0].cluster`);
    assert.match(e.message, /cluster "shadowtapp", which is not defined \(did you mean "shadowtap"\?\)/);
  });

  it('a dangling cluster in ext_proc grpc_service and in a route', () => {
    const b = bootstrap();
    const hcm = b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    hcm.http_filters[0].typed_config.grpc_service.envoy_grpc.cluster_name = 'nowhere';
    hcm.route_config.virtual_hosts[0].routes[0].route.cluster = 'elsewhere';
    const r = validateEnvoyConfig(b);
    assert.deepEqual(
      r.errors.map((e) => e.path).sort(),
      [`${FILTERS}[0].typed_config.grpc_service.envoy_grpc.cluster_name`, `${ROUTE}.cluster`].sort(),
    );
    // The same references pass when the clusters are declared as known (e.g. served by CDS).
    assert.equal(validateEnvoyConfig(b, { knownClusters: ['nowhere', 'elsewhere'] }).ok, true);
  });

  it('dangling clusters in repeated references and tracing/stats sinks', () => {
    const b = bootstrap();
    b.stats_sinks = [
      {
        name: 'envoy.stat_sinks.statsd',
        typed_config: { '@type': 'type.googleapis.com/envoy.config.metrics.v3.StatsdSink', tcp_cluster_name: 'statsd' },
      },
    ];
    b.dynamic_resources = {
      lds_config: { api_config_source: { api_type: 'REST', cluster_names: ['app', 'xds'], refresh_delay: '1s' } },
    };
    const r = validateEnvoyConfig(b);
    assert.deepEqual(
      r.errors.map((e) => e.path),
      [
        'stats_sinks[0].typed_config.tcp_cluster_name',
        'dynamic_resources.lds_config.api_config_source.cluster_names[1]',
      ],
    );
  });

  it('a bad enum value, with a suggestion and the allowed values', () => {
    const b = bootstrap();
    b.static_resources.clusters[1].lb_policy = 'RING_HASHH';
    const e = only(validateEnvoyConfig(b));
    assert.equal(e.path, 'static_resources.clusters[1].lb_policy');
    assert.match(
      e.message,
      /invalid value "RING_HASHH" for enum envoy\.config\.cluster\.v3\.Cluster\.LbPolicy \(did you mean RING_HASH\?\); expected one of ROUND_ROBIN, /,
    );
  });

  it('an undefined enum number where defined_only applies', () => {
    const b = bootstrap();
    b.static_resources.clusters[1].lb_policy = 42;
    assert.match(
      only(validateEnvoyConfig(b)).message,
      /42 is not a defined value of enum envoy\.config\.cluster\.v3\.Cluster\.LbPolicy/,
    );
  });

  it('a wrong duration', () => {
    for (const bad of ['250ms', 0.25, '1.5', '-s']) {
      const b = bootstrap();
      b.static_resources.clusters[1].connect_timeout = bad;
      const e = only(validateEnvoyConfig(b));
      assert.equal(e.path, 'static_resources.clusters[1].connect_timeout');
      assert.match(e.message, /duration/);
    }
  });

  it('duration bounds from the validate rules', () => {
    const b = bootstrap();
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.message_timeout =
      '3601s';
    const e = only(validateEnvoyConfig(b));
    assert.match(e.message, /duration must be at most 3600s, got 3601s/);
    const hc = { timeout: '0s', interval: '5s', unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {} };
    const e2 = only(validateEnvoyConfig(hc, { type: 'health_check' }));
    assert.equal(e2.path, 'timeout');
    assert.match(e2.message, /duration must be greater than 0s/);
  });

  it('wrong JSON types', () => {
    const b = bootstrap();
    b.static_resources.listeners[0].address.socket_address.port_value = '10000x';
    b.static_resources.clusters[1].circuit_breakers.thresholds[0].max_requests = -1;
    b.static_resources.clusters[0].load_assignment.endpoints = 'localhost';
    const r = validateEnvoyConfig(b);
    const byPath = new Map(r.errors.map((e) => [e.path, e.message]));
    assert.match(
      byPath.get('static_resources.listeners[0].address.socket_address.port_value')!,
      /expected an integer \(uint32\)/,
    );
    assert.match(
      byPath.get('static_resources.clusters[1].circuit_breakers.thresholds[0].max_requests')!,
      /out of range for uint32/,
    );
    assert.match(
      byPath.get('static_resources.clusters[0].load_assignment.endpoints')!,
      /expected a mapping \(envoy\.config\.endpoint\.v3\.LocalityLbEndpoints\), got the string "localhost"/,
    );
  });

  it('a port above the validate bound', () => {
    const b = bootstrap();
    b.static_resources.listeners[0].address.socket_address.port_value = 70000;
    assert.match(only(validateEnvoyConfig(b)).message, /must be at most 65535, got 70000/);
  });

  it('two members of one oneof', () => {
    const b = bootstrap();
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster_header =
      'x-cluster';
    const e = only(validateEnvoyConfig(b));
    assert.equal(e.path, `${ROUTE}.cluster_header`);
    assert.match(e.message, /oneof cluster_specifier is already set by "cluster"/);
  });

  it('the same field under its snake_case and lowerCamel names', () => {
    const b = bootstrap();
    b.static_resources.clusters[1].connectTimeout = '1s';
    assert.match(only(validateEnvoyConfig(b)).message, /field connect_timeout is set twice/);
  });

  it('missing required fields: message.required, string min_len, repeated min_items, required oneof', () => {
    const b = bootstrap();
    delete b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config
      .grpc_service;
    delete b.static_resources.clusters[1].name;
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].domains = [];
    delete b.static_resources.listeners[0].address.socket_address.port_value;
    const r = validateEnvoyConfig(b);
    const paths = r.errors.map((e) => e.path);
    assert.ok(paths.includes(`${FILTERS}[0].typed_config.grpc_service`), paths.join('\n'));
    assert.ok(paths.includes('static_resources.clusters[1].name'));
    assert.ok(
      paths.includes(
        'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].domains',
      ),
    );
    assert.ok(paths.includes('static_resources.listeners[0].address.socket_address'));
    assert.ok(r.errors.some((e) => /one of port_value, named_port is required/.test(e.message)));
    assert.ok(r.errors.some((e) => /required field grpc_service of .*ExternalProcessor is missing/.test(e.message)));
  });

  it('a host name in a STATIC cluster', () => {
    const b = bootstrap();
    b.static_resources.clusters[1].type = 'STATIC';
    const e = only(validateEnvoyConfig(b));
    assert.equal(
      e.path,
      'static_resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address',
    );
    assert.match(e.message, /not an IP address: a STATIC cluster needs IP endpoints/);
  });

  it('the router not last', () => {
    const b = bootstrap();
    const hcm = b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    hcm.http_filters.reverse();
    const r = validateEnvoyConfig(b);
    assert.deepEqual(
      r.errors.map((e) => e.path),
      [`${FILTERS}[0]`, `${FILTERS}[1]`],
    );
  });

  it('BUFFERED bodies in ext_proc observability mode', () => {
    const b = bootstrap();
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.processing_mode.request_body_mode =
      'BUFFERED';
    const e = only(validateEnvoyConfig(b));
    assert.equal(e.path, `${FILTERS}[0].typed_config.processing_mode.request_body_mode`);
    assert.match(e.message, /observability_mode sends bodies only in STREAMED mode/);
  });

  it('duplicate cluster names', () => {
    const b = bootstrap();
    b.static_resources.clusters.push({ ...b.static_resources.clusters[0] });
    const e = only(validateEnvoyConfig(b));
    assert.equal(e.path, 'static_resources.clusters[2].name');
    assert.match(e.message, /duplicate cluster name "app" \(first defined at static_resources\.clusters\[0\]\.name\)/);
  });

  it('a non-mapping where a message is expected, and a non-list Struct list', () => {
    const e = only(validateEnvoyConfig({ static_resources: [] }));
    assert.match(
      e.message,
      /expected a mapping \(envoy\.config\.bootstrap\.v3\.Bootstrap\.StaticResources\), got a list/,
    );
  });

  it('assertValidEnvoy throws ST_ERR_ENVOY_INVALID listing every path', () => {
    const b = bootstrap();
    b.static_resources.clusters[1].lb_policy = 'NOPE';
    assert.throws(
      () => assertValidEnvoy(b),
      (err: Error & { code?: string }) =>
        err.code === 'ST_ERR_ENVOY_INVALID' && /static_resources\.clusters\[1\]\.lb_policy/.test(err.message),
    );
  });
});

describe('validate-envoy: versions, warnings and types', () => {
  it('fields newer than the protos are errors unless the target version allows them', () => {
    const policy = { cluster: 'shadowtap', host_rewrite_literal: 'shadow.example' };
    const e = only(validateEnvoyConfig(policy, { type: 'mirror_policy' }));
    assert.equal(e.path, 'host_rewrite_literal');
    assert.match(e.message, /needs Envoy 1\.36\+ \(target is 1\.31/);
    const r = validateEnvoyConfig(policy, { type: 'mirror_policy', envoyVersion: '1.36' });
    assert.equal(r.ok, true);
    assert.match(r.warnings.map((w) => w.message).join('\n'), /newer than the shipped protos/);
  });

  it('deprecated fields are accepted with a warning', () => {
    const r = validateEnvoyConfig({ name: 'c', http2_protocol_options: {} }, { type: 'cluster' });
    assert.equal(r.ok, true);
    assert.match(
      r.warnings[0]!.message,
      /field http2_protocol_options of envoy\.config\.cluster\.v3\.Cluster is deprecated/,
    );
  });

  it('fields and enum values disallowed by default are errors', () => {
    const zipkin = {
      collector_cluster: 'z',
      collector_endpoint: '/api/v2/spans',
      collector_endpoint_version: 'DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE',
    };
    const e = only(validateEnvoyConfig(zipkin, { type: 'envoy.config.trace.v3.ZipkinConfig', knownClusters: ['z'] }));
    assert.equal(e.path, 'collector_endpoint_version');
    assert.match(e.message, /enum value DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE is deprecated and disallowed by default/);
  });

  it('cluster references are not checked when CDS provides the clusters', () => {
    const b = bootstrap();
    b.static_resources.clusters.splice(1, 1);
    b.dynamic_resources = { cds_config: { ads: {} } };
    const r = validateEnvoyConfig(b);
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.match(r.warnings.map((w) => w.message).join('\n'), /clusters come from CDS\/ADS/);
  });

  it('accepts full message names as types and rejects unknown types', () => {
    assert.equal(
      validateEnvoyConfig({ path: '/readyz' }, { type: 'envoy.config.core.v3.HealthCheck.HttpHealthCheck' }).ok,
      true,
    );
    assert.match(
      only(validateEnvoyConfig({}, { type: 'clustr' })).message,
      /unknown config type "clustr" \(did you mean cluster\?\)/,
    );
  });

  it('a typed_config validated on its own may keep its @type, which must match', () => {
    const router = { '@type': ROUTER, dynamic_stats: true };
    assert.equal(validateEnvoyConfig(router, { type: 'envoy.extensions.filters.http.router.v3.Router' }).ok, true);
    const e = only(
      validateEnvoyConfig({ '@type': EXT_PROC }, { type: 'envoy.extensions.filters.http.router.v3.Router' }),
    );
    assert.equal(e.path, '@type');
    assert.match(e.message, /does not match the type validated, envoy\.extensions\.filters\.http\.router\.v3\.Router/);
  });

  it('compares versions numerically', () => {
    assert.ok(compareVersions('1.31', '1.36') < 0);
    assert.ok(compareVersions('1.100', '1.36') > 0);
    assert.equal(compareVersions('1.31.0', '1.31'), 0);
  });
});

describe('validate-envoy: parsing', () => {
  it('parses YAML and JSON', () => {
    assert.deepEqual(parseEnvoyText('a: 1\nb: [x]\n'), { a: 1, b: ['x'] });
    assert.deepEqual(parseEnvoyText('{"a": {"b": "0.25s"}}'), { a: { b: '0.25s' } });
  });

  it('rejects duplicate keys, syntax errors and several documents', () => {
    assert.throws(() => parseEnvoyText('a: 1\na: 2\n', 'f.yaml'), /f\.yaml: .*unique/i);
    assert.throws(() => parseEnvoyText('a: [1\n', 'f.yaml'), /ST_ERR_ENVOY_INVALID|f\.yaml/);
    assert.throws(() => parseEnvoyText('a: 1\n---\nb: 2\n', 'f.yaml'), /expected one YAML\/JSON document, found 2/);
  });
});
