import assert from 'node:assert/strict';
import {
  credentials,
  loadPackageDefinition,
  makeClientConstructor,
  Metadata,
  status,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Detection } from '../src/gen/shadowtap/v1/detection.js';
import type { GetStatsResponse, ListDetectionsResponse } from '../src/gen/shadowtap/v1/detection_service.js';
import { resolveConfig } from '../src/config/config.js';
import { checkGrpcExposure, isLoopbackHost } from '../src/publish/grpc-credentials.js';
import type { Shadowtap } from '../src/server.js';
import { silentLogger } from '../src/core/logger.js';
import { createGrpcServer } from '../src/publish/grpc-server.js';
import {
  grpcClient,
  startTestServer,
  subscribe,
  waitForSubscribers,
  type ClientOptions,
} from './helpers/start-server.js';

const TOKEN = 'test-token-0123456789abcdef';
const certs = new URL('./fixtures/certs/', import.meta.url);
const certPath = (name: string): string => new URL(name, certs).pathname;
const pem = (name: string): Buffer => readFileSync(certPath(name));

const bearer = (token: string): Metadata => {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
};

/** Subscribes, publishes one detection, and resolves with it or with the call's error. */
async function trySubscribe(app: Shadowtap, opts: ClientOptions): Promise<Detection | ServiceError> {
  const sub = subscribe(app.ports.grpc, {}, opts);
  const failed = new Promise<ServiceError>((resolve) => sub.call.on('error', resolve));
  const registered = waitForSubscribers(app, 1, 5000).then(() => {
    app.hub.publish(Detection.fromPartial({ id: 'probe', attackType: 'sqli' }));
    return sub.until(() => sub.detections().length > 0).then(() => sub.detections()[0]!);
  });
  try {
    return await Promise.race([failed, registered]);
  } finally {
    sub.close();
    while (app.hub.subscriberCount() > 0) await new Promise((r) => setTimeout(r, 5));
  }
}

function unary<T>(fn: (cb: (err: ServiceError | null, res?: T) => void) => void): Promise<T | ServiceError> {
  return new Promise((resolve) => fn((err, res) => resolve(err ?? res!)));
}

type HealthClient = Client & {
  check(req: { service: string }, cb: (err: ServiceError | null, res?: { status: string }) => void): void;
  watch(req: { service: string }): NodeJS.EventEmitter & { cancel(): void };
};
const HealthClientCtor = makeClientConstructor(healthService as never, 'grpc.health.v1.Health') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => HealthClient;

describe('DetectionService bearer-token auth', () => {
  let app: Shadowtap;
  before(async () => {
    app = await startTestServer({ grpc: { authToken: TOKEN } });
  });
  after(async () => {
    await app.close();
  });

  it('rejects Subscribe without a token or with a wrong one, with UNAUTHENTICATED', async () => {
    const missing = await trySubscribe(app, {});
    assert.equal((missing as ServiceError).code, status.UNAUTHENTICATED);
    assert.equal((missing as ServiceError).metadata.get('shadowtap-error-code')[0], 'ST_ERR_UNAUTHENTICATED');
    const wrong = await trySubscribe(app, { metadata: bearer('test-token-0123456789abcdeX') });
    assert.equal((wrong as ServiceError).code, status.UNAUTHENTICATED);
    const notBearer = new Metadata();
    notBearer.set('authorization', TOKEN);
    assert.equal(((await trySubscribe(app, { metadata: notBearer })) as ServiceError).code, status.UNAUTHENTICATED);
  });

  it('accepts Subscribe with the right token', async () => {
    const got = await trySubscribe(app, { metadata: bearer(TOKEN) });
    assert.equal((got as Detection).id, 'probe');
  });

  it('guards ListDetections and GetStats too', async () => {
    const client = grpcClient(app.ports.grpc);
    try {
      const denied = await unary<ListDetectionsResponse>((cb) =>
        client.listDetections({ pageSize: 10, pageToken: '' }, cb),
      );
      assert.equal((denied as ServiceError).code, status.UNAUTHENTICATED);
      const deniedStats = await unary<GetStatsResponse>((cb) => client.getStats({}, bearer('nope-nope-nope-nope'), cb));
      assert.equal((deniedStats as ServiceError).code, status.UNAUTHENTICATED);
      const list = await unary<ListDetectionsResponse>((cb) =>
        client.listDetections({ pageSize: 10, pageToken: '' }, bearer(TOKEN), cb),
      );
      assert.ok(Array.isArray((list as ListDetectionsResponse).detections));
      const stats = await unary<GetStatsResponse>((cb) => client.getStats({}, bearer(TOKEN), cb));
      assert.equal(typeof (stats as GetStatsResponse).lastSequence, 'number');
    } finally {
      client.close();
    }
  });

  it('leaves the health service (like ext_proc) reachable without a token', async () => {
    const health = new HealthClientCtor(`127.0.0.1:${app.ports.grpc}`, credentials.createInsecure());
    try {
      const res = await unary<{ status: string }>((cb) =>
        health.check({ service: 'shadowtap.v1.DetectionService' }, cb),
      );
      assert.deepEqual(res, { status: 'SERVING' });
    } finally {
      health.close();
    }
  });
});

describe('health and reflection', () => {
  it('health answers SERVING, NOT_FOUND for unknown services, and NOT_SERVING once shutdown starts', async () => {
    const app = await startTestServer();
    const health = new HealthClientCtor(`127.0.0.1:${app.ports.grpc}`, credentials.createInsecure());
    try {
      for (const service of ['', 'shadowtap.v1.DetectionService']) {
        assert.deepEqual(await unary((cb) => health.check({ service }, cb)), { status: 'SERVING' }, service);
      }
      const unknown = await unary((cb) => health.check({ service: 'no.such.Service' }, cb));
      assert.equal((unknown as ServiceError).code, status.NOT_FOUND);

      const watch = health.watch({ service: '' });
      const statuses: string[] = [];
      const notServing = new Promise<void>((resolve) => {
        watch.on('data', (m: { status: string }) => {
          statuses.push(m.status);
          if (m.status === 'NOT_SERVING') resolve();
        });
      });
      watch.on('error', () => undefined);
      while (statuses.length === 0) await new Promise((r) => setTimeout(r, 5));
      const closing = app.close();
      await notServing;
      watch.cancel();
      await closing;
      assert.deepEqual(statuses, ['SERVING', 'NOT_SERVING']);
    } finally {
      health.close();
      await app.close();
    }
  });

  it('health reports every service registered on the server, such as ext_proc', async () => {
    const id = (x: Buffer): Buffer => x;
    const definition = {
      process: {
        path: '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
        requestStream: true,
        responseStream: true,
        requestSerialize: id,
        requestDeserialize: id,
        responseSerialize: id,
        responseDeserialize: id,
      },
    };
    const server = createGrpcServer({
      config: resolveConfig({ grpc: { port: 0 } }).grpc,
      services: [{ definition, implementation: { process: () => undefined } }],
      logger: silentLogger(),
    });
    const port = await server.start();
    const health = new HealthClientCtor(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      const service = 'envoy.service.ext_proc.v3.ExternalProcessor';
      assert.deepEqual(await unary((cb) => health.check({ service }, cb)), { status: 'SERVING' });
      server.markNotServing();
      assert.deepEqual(await unary((cb) => health.check({ service }, cb)), { status: 'NOT_SERVING' });
    } finally {
      health.close();
      await server.close(1000);
    }
  });

  it('reflection lists DetectionService and health, and describes the Subscribe method', async () => {
    const app = await startTestServer();
    const require = createRequire(import.meta.url);
    const protoDir = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
    const pkg = loadPackageDefinition(
      loadSync('grpc/reflection/v1/reflection.proto', { includeDirs: [protoDir], keepCase: true, oneofs: true }),
    ) as unknown as {
      grpc: {
        reflection: { v1: { ServerReflection: new (a: string, c: unknown) => Client & Record<string, unknown> } };
      };
    };
    const client = new pkg.grpc.reflection.v1.ServerReflection(
      `127.0.0.1:${app.ports.grpc}`,
      credentials.createInsecure(),
    );
    try {
      const call = (
        client as unknown as { ServerReflectionInfo(): NodeJS.EventEmitter & { write(m: unknown): void; end(): void } }
      ).ServerReflectionInfo();
      const responses: Array<Record<string, unknown>> = [];
      const done = new Promise<void>((resolve, reject) => {
        call.on('data', (m: Record<string, unknown>) => responses.push(m));
        call.on('end', resolve);
        call.on('error', reject);
      });
      call.write({ list_services: '' });
      call.write({ file_containing_symbol: 'shadowtap.v1.DetectionService' });
      call.end();
      await done;
      const names = (responses[0]!.list_services_response as { service: Array<{ name: string }> }).service.map(
        (s) => s.name,
      );
      assert.ok(names.includes('shadowtap.v1.DetectionService'), names.join(','));
      assert.ok(names.includes('grpc.health.v1.Health'), names.join(','));
      const files = (responses[1]!.file_descriptor_response as { file_descriptor_proto: Buffer[] })
        .file_descriptor_proto;
      assert.ok(files.length > 0);
      assert.ok(Buffer.concat(files).toString('latin1').includes('Subscribe'));
    } finally {
      client.close();
      await app.close();
    }
  });
});

describe('TLS and mTLS', () => {
  const tls = (extra: Record<string, unknown> = {}) => ({
    certFile: certPath('server.crt'),
    keyFile: certPath('server.key'),
    ...extra,
  });

  it('serves DetectionService over TLS to a client that trusts the CA, and not in clear text', async () => {
    const app = await startTestServer({ grpc: { tls: tls() } });
    try {
      const ok = await trySubscribe(app, { host: 'localhost', credentials: credentials.createSsl(pem('ca.crt')) });
      assert.equal((ok as Detection).id, 'probe');
      const plain = await trySubscribe(app, {});
      assert.equal((plain as ServiceError).code, status.UNAVAILABLE);
    } finally {
      await app.close();
    }
  });

  it('mTLS accepts a client certificate signed by the CA and refuses none or a stranger', async () => {
    const app = await startTestServer({
      grpc: { tls: tls({ caFile: certPath('ca.crt'), requireClientCert: true }) },
    });
    try {
      const ok = await trySubscribe(app, {
        host: 'localhost',
        credentials: credentials.createSsl(pem('ca.crt'), pem('client.key'), pem('client.crt')),
      });
      assert.equal((ok as Detection).id, 'probe');
      const none = await trySubscribe(app, { host: 'localhost', credentials: credentials.createSsl(pem('ca.crt')) });
      assert.equal((none as ServiceError).code, status.UNAVAILABLE);
      const stranger = await trySubscribe(app, {
        host: 'localhost',
        credentials: credentials.createSsl(pem('ca.crt'), pem('stranger.key'), pem('stranger.crt')),
      });
      assert.equal((stranger as ServiceError).code, status.UNAVAILABLE);
    } finally {
      await app.close();
    }
  });

  it('a missing certificate file stops startup with ST_ERR_CONFIG_FILE naming it', async () => {
    await assert.rejects(
      startTestServer({ grpc: { tls: { certFile: '/nonexistent/server.crt', keyFile: certPath('server.key') } } }),
      (err: Error & { code?: string }) =>
        err.code === 'ST_ERR_CONFIG_FILE' && err.message.includes('/nonexistent/server.crt'),
    );
  });
});

describe('safe default bind', () => {
  const grpc = (o: Record<string, unknown>) => resolveConfig({ grpc: o }).grpc;

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
      assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', 'shadowtap.internal', '128.0.0.1']) assert.ok(!isLoopbackHost(h), h);
  });

  it('defaults to loopback, and refuses a non-loopback bind without token, mTLS or opt-in', () => {
    assert.equal(resolveConfig({}).grpc.host, '127.0.0.1');
    assert.doesNotThrow(() => checkGrpcExposure(grpc({})));
    assert.throws(
      () => checkGrpcExposure(grpc({ host: '0.0.0.0' })),
      (err: Error & { code?: string }) =>
        err.code === 'ST_ERR_CONFIG_INVALID' &&
        ['grpc.host', 'grpc.authToken', 'grpc.tls.requireClientCert', 'grpc.allowUnauthenticated'].every((k) =>
          err.message.includes(k),
        ),
    );
    assert.doesNotThrow(() => checkGrpcExposure(grpc({ host: '0.0.0.0', authToken: TOKEN })));
    assert.doesNotThrow(() => checkGrpcExposure(grpc({ host: '0.0.0.0', allowUnauthenticated: true })));
    assert.doesNotThrow(() =>
      checkGrpcExposure(
        grpc({ host: '0.0.0.0', tls: { certFile: 'c', keyFile: 'k', caFile: 'ca', requireClientCert: true } }),
      ),
    );
    // TLS alone does not authenticate anyone.
    assert.throws(() => checkGrpcExposure(grpc({ host: '0.0.0.0', tls: { certFile: 'c', keyFile: 'k' } })));
    assert.throws(
      () => checkGrpcExposure(grpc({ tls: { certFile: 'c', keyFile: 'k', requireClientCert: true } })),
      /grpc\.tls\.caFile/,
    );
  });

  it('startup fails before binding anything when the bind is unsafe', async () => {
    await assert.rejects(startTestServer({ grpc: { host: '0.0.0.0' } }), { code: 'ST_ERR_CONFIG_INVALID' });
    const app = await startTestServer({ grpc: { host: '0.0.0.0', authToken: TOKEN } });
    await app.close();
  });
});
