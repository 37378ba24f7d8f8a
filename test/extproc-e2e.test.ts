import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Shadowtap } from '../src/server.js';
import { Source } from '../src/gen/shadowtap/v1/detection.js';
import { createExtProcClients, driveExchange } from './helpers/extproc-driver.js';
import { startTestServer, subscribe, waitForSubscribers } from './helpers/start-server.js';

describe('ext_proc: requests and responses reach the Detection stream', () => {
  let app: Shadowtap;
  let client: ReturnType<typeof createExtProcClients>[number];
  before(async () => {
    // A generous budget: a cold worker on a loaded 2-core machine must not cut analysis short.
    app = await startTestServer({ analysis: { limits: { budgetMs: 2000 } } });
    client = createExtProcClients(app.ports.grpc, 1)[0]!;
  });
  after(async () => {
    client.close();
    await app.close();
  });

  it('inline mode, streamed request body: SQLi with a 500 + MySQL error response', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const body = JSON.stringify({
      filler: 'lorem ipsum '.repeat(400),
      id: "1' UNION SELECT username, password FROM users--",
    });
    const res = await driveExchange(
      client,
      {
        method: 'POST',
        path: '/api/items',
        authority: 'shop.example.com',
        headers: { 'content-type': 'application/json', 'x-request-id': 'xp-1' },
        body,
        attributes: { 'source.address': '203.0.113.9:41234' },
        response: {
          status: 500,
          headers: { 'content-type': 'text/html' },
          body: "<b>Warning</b>: You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1",
        },
      },
      { mode: { request_body_mode: 'STREAMED', response_body_mode: 'BUFFERED' }, chunkSize: 1024 },
    );
    assert.equal(res.outcome, 'completed', res.detail);
    assert.deepEqual(
      res.replies.map((r) => r.response),
      res.expected,
    );
    assert.equal(res.status?.code, 0);
    const of = (t: string) => sub.detections().find((d) => d.requestId === 'xp-1' && d.attackType === t);
    await sub.until(() => of('sqli') !== undefined && of('leak_sql_error') !== undefined);
    const ds = sub.detections().filter((d) => d.requestId === 'xp-1');
    const sqli = ds.find((d) => d.attackType === 'sqli');
    assert.ok(sqli, JSON.stringify(ds));
    assert.equal(sqli.source, Source.SOURCE_EXT_PROC);
    assert.equal(sqli.location, 'body.json.id');
    assert.equal(sqli.clientIp, '203.0.113.9');
    assert.equal(sqli.host, 'shop.example.com');
    assert.equal(sqli.response?.status, 500);
    assert.equal(sqli.response?.suggestsSuccess, true);
    const leak = ds.find((d) => d.attackType === 'leak_sql_error');
    assert.ok(leak, JSON.stringify(ds.map((d) => [d.attackType, d.ruleId, d.location, d.response])));
    assert.equal(leak.location, 'response.body');
    assert.equal(leak.response?.status, 500);
    sub.close();
  });
});
