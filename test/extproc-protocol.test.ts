import assert from 'node:assert/strict';
import { Client as GrpcClient, credentials, status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import type { Shadowtap } from '../src/server.js';
import type { HeaderMap, ProcessingRequest } from '../src/ingest/extproc-protos.js';
import { createExtProcClients, driveExchange, openRawStream } from './helpers/extproc-driver.js';
import { metricValue, startTestServer } from './helpers/start-server.js';

type Client = ReturnType<typeof createExtProcClients>[number];

const hm = (entries: Array<[string, string]>): HeaderMap => ({
  headers: entries.map(([key, v]) => ({ key, value: '', raw_value: Buffer.from(v) })),
});
const reqHeaders = (eos = false): Partial<ProcessingRequest> => ({
  request_headers: {
    headers: hm([
      [':method', 'POST'],
      [':path', '/x'],
      [':authority', 'a.example'],
    ]),
    attributes: {},
    end_of_stream: eos,
  },
});
const respHeaders = (code = '200'): Partial<ProcessingRequest> => ({
  response_headers: { headers: hm([[':status', code]]), attributes: {}, end_of_stream: false },
});
const body = (text: string, eos: boolean): Partial<ProcessingRequest> => ({
  request_body: { body: Buffer.from(text), end_of_stream: eos },
});

describe('ext_proc protocol violations close the stream with a clear status and a counter', () => {
  let app: Shadowtap;
  let client: Client;
  before(async () => {
    app = await startTestServer();
    client = createExtProcClients(app.ports.grpc, 1)[0]!;
  });
  after(async () => {
    client.close();
    await app.close();
  });

  const cases: Array<{
    name: string;
    messages: Array<Partial<ProcessingRequest>>;
    code: status;
    reason: string;
    details: RegExp;
    replies: number;
  }> = [
    {
      name: 'response_headers before request_headers',
      messages: [respHeaders()],
      code: status.FAILED_PRECONDITION,
      reason: 'out_of_order',
      details: /response_headers before request_headers/,
      replies: 0,
    },
    {
      name: 'request_body after request_trailers',
      messages: [reqHeaders(), { request_trailers: { trailers: hm([['x-t', '1']]) } }, body('a=1', true)],
      code: status.FAILED_PRECONDITION,
      reason: 'out_of_order',
      details: /request_body after request_trailers/,
      replies: 2,
    },
    {
      name: 'request_body after end_of_stream',
      messages: [reqHeaders(), body('a=1', true), body('b=2', true)],
      code: status.FAILED_PRECONDITION,
      reason: 'out_of_order',
      details: /after the request body ended/,
      replies: 2,
    },
    {
      name: 'request_headers twice',
      messages: [reqHeaders(), reqHeaders()],
      code: status.FAILED_PRECONDITION,
      reason: 'out_of_order',
      details: /twice/,
      replies: 1,
    },
    {
      name: 'response_body before response_headers',
      messages: [reqHeaders(true), { response_body: { body: Buffer.from('x'), end_of_stream: true } }],
      code: status.FAILED_PRECONDITION,
      reason: 'out_of_order',
      details: /response_body before response_headers/,
      replies: 1,
    },
    {
      name: 'empty oneof',
      messages: [{}],
      code: status.INVALID_ARGUMENT,
      reason: 'empty_request',
      details: /empty oneof/,
      replies: 0,
    },
    {
      name: 'request_headers without :path',
      messages: [{ request_headers: { headers: hm([[':method', 'GET']]), attributes: {}, end_of_stream: true } }],
      code: status.INVALID_ARGUMENT,
      reason: 'missing_pseudo_header',
      details: /:method or :path/,
      replies: 0,
    },
    {
      name: 'response :status not a number',
      messages: [reqHeaders(true), respHeaders('2xx')],
      code: status.INVALID_ARGUMENT,
      reason: 'bad_status',
      details: /not an HTTP status/,
      replies: 1,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const before = await metricValue(app, 'shadowtap_extproc_errors_total', { reason: c.reason });
      const s = openRawStream(client);
      for (const m of c.messages) s.send(m);
      const st = await s.status;
      assert.equal(st.code, c.code, st.details);
      assert.match(st.details, c.details);
      // Every message before the bad one was answered; the bad one was not.
      assert.equal(s.replies.length, c.replies);
      assert.equal(await metricValue(app, 'shadowtap_extproc_errors_total', { reason: c.reason }), before + 1);
    });
  }

  it('bytes that are not a ProcessingRequest: grpc-js answers INTERNAL, the stream is released', async () => {
    const raw = new GrpcClient(`127.0.0.1:${app.ports.grpc}`, credentials.createInsecure());
    const call = raw.makeBidiStreamRequest(
      '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    const st = new Promise<{ code: number; details: string }>((resolve) => call.on('status', resolve));
    call.on('error', () => undefined);
    // Field 2 (request_headers), length-delimited, with a length varint that runs past the end.
    call.write(Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    const { code, details } = await st;
    assert.equal(code, status.INTERNAL);
    assert.match(details, /deserializing/);
    raw.close();
    const start = Date.now();
    while ((await metricValue(app, 'shadowtap_extproc_streams_active')) > 0 && Date.now() - start < 3000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await metricValue(app, 'shadowtap_extproc_streams_active'), 0);
  });

  it('the server keeps serving after violations, and nothing from a broken stream is analysed', async () => {
    const received = await metricValue(app, 'shadowtap_received_total', { source: 'ext_proc' });
    const res = await driveExchange(client, { path: '/ok', response: { status: 204 } });
    assert.equal(res.outcome, 'completed');
    assert.equal(res.status?.code, status.OK);
    const start = Date.now();
    while (
      (await metricValue(app, 'shadowtap_received_total', { source: 'ext_proc' })) < received + 1 &&
      Date.now() - start < 3000
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await metricValue(app, 'shadowtap_received_total', { source: 'ext_proc' }), received + 1);
    assert.equal(await metricValue(app, 'shadowtap_extproc_streams_active'), 0);
  });
});

describe('ext_proc stream limits', () => {
  let app: Shadowtap;
  let client: Client;
  before(async () => {
    app = await startTestServer({ extProc: { maxStreams: 1, streamIdleTimeoutMs: 300 } });
    client = createExtProcClients(app.ports.grpc, 1)[0]!;
  });
  after(async () => {
    client.close();
    await app.close();
  });

  it('refuses streams past maxStreams with RESOURCE_EXHAUSTED, and closes idle ones with DEADLINE_EXCEEDED', async () => {
    const first = openRawStream(client);
    first.send(reqHeaders());
    // Wait until the first stream is registered on the server.
    const start = Date.now();
    while ((await metricValue(app, 'shadowtap_extproc_streams_active')) < 1 && Date.now() - start < 3000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const second = openRawStream(client);
    second.send(reqHeaders(true));
    assert.equal((await second.status).code, status.RESOURCE_EXHAUSTED);
    assert.equal(await metricValue(app, 'shadowtap_extproc_errors_total', { reason: 'too_many_streams' }), 1);
    // The first stream sent half a request and went quiet.
    const st = await first.status;
    assert.equal(st.code, status.DEADLINE_EXCEEDED);
    assert.equal(await metricValue(app, 'shadowtap_extproc_errors_total', { reason: 'idle_timeout' }), 1);
    // What it carried was still handed to admission.
    assert.equal(await metricValue(app, 'shadowtap_received_total', { source: 'ext_proc' }), 1);
  });
});
