import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runGenEnvoy } from '../src/cli/cmd-gen-envoy.js';
import { runValidateEnvoy } from '../src/cli/cmd-validate-envoy.js';

function capture(): {
  io: { stdout: (s: string) => void; stderr: (s: string) => void };
  out: () => string;
  err: () => string;
} {
  let out = '';
  let err = '';
  return { io: { stdout: (s) => (out += s), stderr: (s) => (err += s) }, out: () => out, err: () => err };
}

const dir = mkdtempSync(join(tmpdir(), 'shadowtap-envoy-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('shadowtap gen-envoy', () => {
  it('--help prints the flags', async () => {
    const c = capture();
    assert.equal(await runGenEnvoy(['--help'], c.io), 0);
    assert.match(c.out(), /--ext-proc MODE/);
    assert.match(c.out(), /--output FORMAT/);
    assert.match(c.out(), /--shadow-h2c-port N/);
  });

  it('the HTTP/1.1 mirror cluster targets --shadow-port, --shadow-protocol http2 the --shadow-h2c-port', async () => {
    const h1 = capture();
    assert.equal(await runGenEnvoy(['--shadow-port', '7000', '--shadow-h2c-port', '7001'], h1.io), 0);
    assert.match(h1.out(), /port_value: 7000\n/);
    assert.doesNotMatch(h1.out(), /port_value: 7001\n/);
    const h2 = capture();
    assert.equal(
      await runGenEnvoy(['--shadow-port', '7000', '--shadow-h2c-port', '7001', '--shadow-protocol', 'http2'], h2.io),
      0,
    );
    assert.match(h2.out(), /port_value: 7001\n/);
    assert.doesNotMatch(h2.out(), /port_value: 7000\n/);
    const bad = capture();
    assert.equal(await runGenEnvoy(['--shadow-h2c-port', 'x'], bad.io), 2);
    assert.match(bad.err(), /--shadow-h2c-port must be a number/);
  });

  it('prints the default snippet, which validate-envoy accepts', async () => {
    const c = capture();
    assert.equal(await runGenEnvoy([], c.io), 0);
    assert.match(c.out(), /^# shadowtap: Envoy configuration/);
    const file = join(dir, 'snippet.yaml');
    writeFileSync(file, c.out());
    const v = capture();
    assert.equal(await runValidateEnvoy([file, '--type', 'snippet'], v.io), 0, v.err());
    assert.match(v.out(), /valid snippet/);
  });

  it('--out writes a bootstrap that validates', async () => {
    const file = join(dir, 'bootstrap.yaml');
    const c = capture();
    assert.equal(
      await runGenEnvoy(['--output', 'bootstrap', '--ext-proc', 'blocking', '--mirror', '--out', file], c.io),
      0,
    );
    assert.equal(c.out(), '');
    const v = capture();
    assert.equal(await runValidateEnvoy([file], v.io), 0, v.err());
    assert.match(readFileSync(file, 'utf8'), /envoy\.filters\.http\.ext_proc/);
  });

  it('exit 2 with a precise message for bad flags and impossible combinations', async () => {
    for (const [argv, message] of [
      [['--output', 'haproxy'], /--output must be one of snippet, bootstrap, istio, gateway-api, nginx/],
      [['--mirror-percent', 'ten'], /--mirror-percent must be a number/],
      [['--bogus'], /Unknown option '--bogus'/],
      [
        ['--ext-proc', 'observability', '--request-body-mode', 'BUFFERED'],
        /observability mode sends bodies only STREAMED/,
      ],
      [['--output', 'gateway-api', '--ext-proc', 'observability'], /no observability mode/],
      [['--tls-cert', 'c.pem'], /need --tls-ca/],
    ] as const) {
      const c = capture();
      assert.equal(await runGenEnvoy([...argv], c.io), 2, argv.join(' '));
      assert.match(c.err(), message);
    }
  });
});

describe('shadowtap validate-envoy', () => {
  it('rejects a corrupted config naming each path, exit 1', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'static_resources:',
        '  clusters:',
        '    - name: shadowtap',
        '      conect_timeout: 0.25s',
        '      lb_policy: RING_HASHH',
        '      type: STATIC',
        '      load_assignment:',
        '        cluster_name: shadowtap',
        '        endpoints:',
        '          - lb_endpoints:',
        '              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8080 } } }',
        '      typed_extension_protocol_options:',
        '        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:',
        "          '@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOption",
        '',
      ].join('\n'),
    );
    const c = capture();
    assert.equal(await runValidateEnvoy([file], c.io), 1);
    assert.match(c.err(), /bad\.yaml: static_resources\.clusters\[0\]\.conect_timeout: unknown field "conect_timeout"/);
    assert.match(c.err(), /static_resources\.clusters\[0\]\.lb_policy: invalid value "RING_HASHH"/);
    assert.match(
      c.err(),
      /typed_extension_protocol_options\["envoy\.extensions\.upstreams\.http\.v3\.HttpProtocolOptions"\]\.@type: unknown @type/,
    );
    assert.match(c.err(), /invalid envoy\.config\.bootstrap\.v3\.Bootstrap \(3 errors\)/);
  });

  it('--json, --type, --cluster', async () => {
    const file = join(dir, 'route.json');
    writeFileSync(
      file,
      JSON.stringify({
        virtual_hosts: [{ name: 'a', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }] }],
      }),
    );
    const c = capture();
    assert.equal(await runValidateEnvoy([file, '--type', 'route', '--json'], c.io), 0);
    const result = JSON.parse(c.out());
    assert.equal(result.ok, true);
    assert.equal(result.type, 'envoy.config.route.v3.RouteConfiguration');
    assert.match(result.warnings[0].message, /cluster references not checked/);
    const d = capture();
    assert.equal(await runValidateEnvoy([file, '--type', 'route', '--cluster', 'ap'], d.io), 1);
    assert.match(d.err(), /refers to cluster "app", which is not defined \(did you mean "ap"\?\)/);
  });

  it('exit 2 for usage errors and unreadable or unparsable files', async () => {
    const c = capture();
    assert.equal(await runValidateEnvoy([], c.io), 2);
    assert.match(c.err(), /expected one FILE/);
    const m = capture();
    assert.equal(await runValidateEnvoy([join(dir, 'missing.yaml')], m.io), 2);
    assert.match(m.err(), /ENOENT/);
    const file = join(dir, 'dup.yaml');
    writeFileSync(file, 'admin: {}\nadmin: {}\n');
    const p = capture();
    assert.equal(await runValidateEnvoy([file], p.io), 2);
    assert.match(p.err(), /dup\.yaml: .*unique/i);
  });
});
