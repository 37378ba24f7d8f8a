import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, it } from 'node:test';
import { addressIp, createExchangeAssembler } from '../src/ingest/extproc-exchange.js';
import { createBlockingPolicy } from '../src/ingest/extproc-blocking.js';
import { configSchema } from '../src/config/config.js';
import type { AnalysisResult, Finding } from '../src/core/model.js';
import { silentLogger } from '../src/core/logger.js';
import { createExtProcMetrics } from '../src/ingest/extproc-metrics.js';
import { createExtProcService } from '../src/ingest/extproc-service.js';
import type { ProcessingRequest } from '../src/ingest/extproc-protos.js';
import { envoyMessages } from './helpers/extproc-driver.js';

const limits = { maxRequestBodyBytes: 10, maxResponseBodyBytes: 8, xffTrustedHops: 0 };

function assemble(messages: ReturnType<typeof envoyMessages>, l = limits) {
  const a = createExchangeAssembler(l);
  for (const m of messages) {
    const r = a.accept(m);
    assert.ok(!('error' in r), 'error' in r ? r.error.message : '');
  }
  return a;
}

describe('ext_proc exchange assembly', () => {
  it('builds the request and response from raw_value headers, pseudo-headers, chunks, trailers and attributes', () => {
    const msgs = envoyMessages(
      {
        method: 'POST',
        path: '/api/x?y=1',
        authority: 'shop.example.com-shadow:8443',
        headers: [
          ['x-request-id', 'rid-1'],
          ['cookie', 'a=1'],
          ['x-bin', 'caf\u00e9'],
        ],
        body: 'abcdefghijklmnop',
        trailers: { 'x-sum': '42' },
        attributes: { 'source.address': '[2001:db8::7]:5555', 'request.protocol': 'HTTP/2' },
        response: {
          status: 502,
          headers: { 'content-type': 'text/plain' },
          body: '0123456789abc',
          trailers: { 'grpc-status': '0' },
        },
      },
      {
        mode: {
          request_body_mode: 'STREAMED',
          response_body_mode: 'STREAMED',
          request_trailer_mode: 'SEND',
          response_trailer_mode: 'SEND',
        },
        chunkSize: 3,
      },
    );
    const a = assemble(msgs);
    const ex = a.build();
    assert.equal(ex.source, 'ext_proc');
    assert.equal(ex.requestId, 'rid-1');
    assert.equal(ex.method, 'POST');
    assert.equal(ex.target, '/api/x?y=1');
    assert.equal(ex.host, 'shop.example.com:8443');
    assert.equal(ex.httpVersion, '2');
    assert.equal(ex.clientIp, '2001:db8::7');
    assert.deepEqual(ex.headers, [
      ['x-request-id', 'rid-1'],
      ['cookie', 'a=1'],
      ['x-bin', 'caf\u00e9'],
      ['x-sum', '42'],
    ]);
    // Body capped at 10 bytes, every byte counted.
    assert.equal(Buffer.from(ex.body).toString(), 'abcdefghij');
    assert.equal(ex.bodyTruncated, true);
    assert.equal(ex.bodyBytesSeen, 16);
    assert.equal(ex.response?.status, 502);
    assert.equal(Buffer.from(ex.response!.body).toString(), '01234567');
    assert.equal(ex.response?.bodyTruncated, true);
    assert.deepEqual(ex.response?.headers, [
      ['content-type', 'text/plain'],
      ['grpc-status', '0'],
    ]);
    assert.deepEqual(a.route(), { host: 'shop.example.com:8443', path: '/api/x' });
  });

  it('reads `value` when a peer does not send raw_value, and x-forwarded-for before source.address', () => {
    const msgs = envoyMessages(
      {
        path: '/',
        headers: { 'x-forwarded-for': '198.51.100.1, 10.0.0.2' },
        attributes: { 'source.address': '10.0.0.2:1234' },
      },
      { useValueField: true },
    );
    const ex = assemble(msgs).build();
    assert.equal(ex.clientIp, '10.0.0.2');
    assert.equal(ex.method, 'GET');
    const hops = assemble(msgs, { ...limits, xffTrustedHops: 1 }).build();
    assert.equal(hops.clientIp, '198.51.100.1');
  });

  it('BUFFERED_PARTIAL bodies past the buffer are marked truncated', () => {
    const msgs = envoyMessages(
      { path: '/u', body: 'x'.repeat(20) },
      { mode: { request_body_mode: 'BUFFERED_PARTIAL' }, bufferLimit: 5 },
    );
    const a = assemble(msgs, { ...limits, maxRequestBodyBytes: 100 });
    assert.equal(a.requestEnded, false);
    const ex = a.build();
    assert.equal(ex.body.byteLength, 5);
    assert.equal(ex.bodyBytesSeen, 5);
  });

  it('addressIp handles IPv4, bracketed IPv6, mapped IPv4 and bare addresses', () => {
    assert.equal(addressIp('10.1.2.3:80'), '10.1.2.3');
    assert.equal(addressIp('[::1]:80'), '::1');
    assert.equal(addressIp('[::ffff:10.0.0.1]:80'), '10.0.0.1');
    assert.equal(addressIp('2001:db8::1'), '2001:db8::1');
  });

  it('a rejected message leaves the assembler unchanged', () => {
    const a = createExchangeAssembler(limits);
    const [headers] = envoyMessages({ path: '/a' });
    const bad = a.accept({ ...headers!, request: 'response_trailers', response_trailers: { trailers: null } });
    assert.ok('error' in bad && bad.reason === 'out_of_order');
    assert.ok(!('error' in a.accept(headers!)));
    assert.equal(a.started, true);
  });
});

describe('blocking policy', () => {
  const finding = (severity: Finding['severity'], location = 'query.id'): Finding => ({
    attackType: 'sqli',
    ruleId: `R-${severity}`,
    severity,
    confidence: 1,
    fragment: 'x',
    reason: 'r',
    location,
    chain: [],
  });
  const result = (findings: Finding[]): AnalysisResult => ({
    exchangeId: 'e',
    findings,
    anomalies: [],
    durationMs: 1,
    budgetExceeded: false,
  });
  const blocking = (over: Record<string, unknown>) =>
    createBlockingPolicy(configSchema.parse({ extProc: { blocking: { enabled: true, ...over } } }).extProc.blocking);

  it('scope: hosts (port and case ignored) and path prefixes; disabled means never', () => {
    const p = blocking({ hosts: ['Shop.Example.com'], pathPrefixes: ['/api/', '/admin'] });
    assert.equal(p.applies('shop.example.com:8443', '/api/items'), true);
    assert.equal(p.applies('shop.example.com', '/admin'), true);
    assert.equal(p.applies('shop.example.com', '/static/x'), false);
    assert.equal(p.applies('blog.example.com', '/api/items'), false);
    assert.equal(createBlockingPolicy(configSchema.parse({}).extProc.blocking).applies('a', '/'), false);
  });

  it('verdict: the most severe request finding at or above minSeverity; response findings never block', () => {
    const p = blocking({ minSeverity: 'high' });
    assert.equal(p.verdict(result([finding('medium')])), undefined);
    assert.equal(p.verdict(result([finding('high'), finding('critical')]))?.severity, 'critical');
    assert.equal(p.verdict(result([finding('critical', 'response.body')])), undefined);
    const ir = p.immediateResponse('rid-9', finding('high')).immediate_response!;
    assert.equal(ir.status.code, 403);
    assert.equal(ir.details, 'shadowtap_blocked_R-high');
    assert.match(ir.body!.toString(), /rid-9/);
  });
});

describe('ext_proc stream handler', () => {
  it('an internal failure closes that stream with INTERNAL and a counter, never throws into grpc-js', async () => {
    const registry = new Registry();
    const metrics = createExtProcMetrics(registry);
    const config = configSchema.parse({});
    const service = createExtProcService({
      config: config.extProc,
      maxRequestBodyBytes: 1024,
      xffTrustedHops: 0,
      pipeline: {
        submit: () => {
          throw new Error('admission exploded');
        },
        submitAndWait: () => Promise.resolve(null),
      },
      metrics,
      logger: silentLogger(),
    });
    const errors: Array<{ code?: number }> = [];
    const replies: unknown[] = [];
    const call = Object.assign(new EventEmitter(), { write: (r: unknown) => replies.push(r), end: () => undefined });
    call.on('error', (e: { code?: number }) => errors.push(e));
    (service.implementation as { Process: (c: unknown) => void }).Process(call);
    // The response ends with the headers: the exchange is submitted, and submit throws.
    for (const m of envoyMessages({ path: '/x', response: { status: 204 } })) call.emit('data', m);
    assert.equal(replies.length, 2);
    assert.deepEqual(
      errors.map((e) => e.code),
      [status.INTERNAL],
    );
    const { values } = await metrics.errors.get();
    assert.deepEqual(
      values.map((v) => [v.labels.reason, v.value]),
      [['internal', 1]],
    );
    assert.equal(service.activeStreams(), 0);
  });
});

describe('ext_proc handler under arbitrary message sequences (property)', () => {
  const kinds = [
    'request_headers',
    'request_body',
    'request_trailers',
    'response_headers',
    'response_body',
    'response_trailers',
  ] as const;
  const header = fc.tuple(
    fc.constantFrom(':method', ':path', ':authority', ':status', 'x-request-id', 'host', 'content-type', ''),
    fc.string({ maxLength: 12 }),
  );
  const message = fc.record({
    kind: fc.option(fc.constantFrom(...kinds), { nil: undefined }),
    headers: fc.array(header, { maxLength: 5 }),
    body: fc.uint8Array({ maxLength: 64 }),
    eos: fc.boolean(),
    observability: fc.boolean(),
  });
  const toRequest = (m: {
    kind: (typeof kinds)[number] | undefined;
    headers: Array<[string, string]>;
    body: Uint8Array;
    eos: boolean;
    observability: boolean;
  }): ProcessingRequest => {
    const map = { headers: m.headers.map(([key, v]) => ({ key, value: '', raw_value: Buffer.from(v) })) };
    const base = {
      metadata_context: null,
      attributes: {},
      observability_mode: m.observability,
      request: m.kind,
    } as ProcessingRequest;
    if (!m.kind) return base;
    if (m.kind.endsWith('_headers'))
      return { ...base, [m.kind]: { headers: map, attributes: {}, end_of_stream: m.eos } };
    if (m.kind.endsWith('_body')) return { ...base, [m.kind]: { body: Buffer.from(m.body), end_of_stream: m.eos } };
    return { ...base, [m.kind]: { trailers: map } };
  };

  it('never throws; every stream ends once, answered in order or closed with one status', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 12 }), fc.boolean(), (msgs, cancel) => {
        const metrics = createExtProcMetrics(new Registry());
        let submitted = 0;
        const service = createExtProcService({
          config: configSchema.parse({}).extProc,
          maxRequestBodyBytes: 32,
          xffTrustedHops: 0,
          pipeline: { submit: () => (submitted++, { accepted: true }), submitAndWait: () => Promise.resolve(null) },
          metrics,
          logger: silentLogger(),
        });
        const replies: unknown[] = [];
        const errors: unknown[] = [];
        let ended = 0;
        const call = Object.assign(new EventEmitter(), { write: (r: unknown) => replies.push(r), end: () => ended++ });
        call.on('error', (e: unknown) => errors.push(e));
        (service.implementation as { Process: (c: unknown) => void }).Process(call);
        for (const m of msgs) call.emit('data', toRequest(m));
        call.emit(cancel ? 'cancelled' : 'end');
        assert.ok(errors.length <= 1);
        assert.ok(replies.length <= msgs.length);
        assert.ok(submitted <= 1);
        if (errors.length === 1) assert.equal(submitted, 0, 'a broken stream is not analysed');
      }),
      { numRuns: 300 },
    );
  });
});
