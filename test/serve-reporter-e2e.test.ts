import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { metricValue, startTestServer } from './helpers/start-server.js';

function mirror(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

describe('serve with an upstream HTTP sink', () => {
  it('delivers mirrored detections, redacted, to the configured sink', async () => {
    const received: Array<{ batchId: string | undefined; lines: Array<Record<string, unknown>> }> = [];
    const upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({
          batchId: req.headers['x-shadowtap-batch-id'] as string | undefined,
          lines: body
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as AddressInfo).port;
    const app = await startTestServer({
      reporter: {
        flushIntervalMs: 20,
        sinks: [{ name: 'siem', type: 'http', url: `http://127.0.0.1:${port}/ingest`, format: 'ndjson' }],
        spool: { dir: mkdtempSync(join(tmpdir(), 'shadowtap-spool-')) },
      },
    });
    try {
      assert.equal(
        await mirror(app.ports.shadow, `/login?user=${encodeURIComponent("admin' OR 1=1--")}`, {
          'x-request-id': 'to-siem',
          cookie: `session=${encodeURIComponent("x' OR 1=1--")}`,
        }),
        204,
      );
      const start = Date.now();
      while (!received.some((b) => b.lines.some((l) => l.requestId === 'to-siem')) && Date.now() - start < 8000) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const lines = received.flatMap((b) => b.lines).filter((l) => l.requestId === 'to-siem');
      assert.ok(
        lines.some((l) => l.attackType === 'sqli' && l.location === 'query.user'),
        JSON.stringify(lines),
      );
      assert.ok(received.every((b) => typeof b.batchId === 'string' && b.batchId.length > 0));
      // The cookie carried an injection too: it is reported, but its value never leaves the process.
      const fromCookie = lines.find((l) => l.location === 'cookie.session');
      assert.ok(fromCookie, 'the cookie injection is reported');
      assert.match(String(fromCookie.fragment), /^\[REDACTED/);
      assert.ok(!JSON.stringify(lines).includes("x' OR 1=1"));
      // The upstream has the batch before the reporter has read its answer: wait for the count.
      const until = Date.now() + 8000;
      let delivered = 0;
      while ((delivered = await metricValue(app, 'shadowtap_reporter_delivered_detections_total')) < 1) {
        if (Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(delivered >= 1, 'the delivery is counted');
    } finally {
      await app.close();
      upstream.close();
    }
  });
});
