import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../src/config/config.js';
import { silentLogger } from '../src/core/logger.js';
import { createCoreMetrics } from '../src/core/metrics.js';
import { createCapture } from '../src/ingest/request-capture.js';
import { serveHttp1 } from '../src/ingest/shadow-http1.js';
import { createShadowListener } from '../src/ingest/shadow-listener.js';
import type { Shadowtap } from '../src/server.js';
import { metricValue, startTestServer, subscribe, waitForSubscribers } from './helpers/start-server.js';

/** A raw client: writes bytes, collects everything the server sends until it closes or `quietMs` pass. */
function exchange(
  port: number,
  writes: Array<string | Buffer>,
  opts: { quietMs?: number; gapMs?: number } = {},
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        socket.destroy();
        resolve({ text, closed });
      }, opts.quietMs ?? 300);
    };
    socket.on('data', (d) => {
      text += d.toString('latin1');
      settle();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text, closed });
    });
    socket.on('connect', async () => {
      for (const w of writes) {
        if (socket.destroyed) break;
        socket.write(w);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      settle();
    });
  });
}

const statuses = (text: string): number[] => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));

describe('shadow listener HTTP/1.1 connections', () => {
  let app: Shadowtap;
  before(async () => {
    app = await startTestServer({
      shadow: { maxHeaderBytes: 4096, requestTimeoutMs: 400, idleTimeoutMs: 600 },
    });
  });
  after(async () => {
    await app.close();
  });

  it('answers pipelined requests in order, each analysed', async () => {
    const before = await metricValue(app, 'shadowtap_received_total');
    const { text, closed } = await exchange(app.ports.shadow, [
      'GET /a HTTP/1.1\r\nHost: h\r\n\r\n' +
        'POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc' +
        'GET /readyz HTTP/1.1\r\nHost: h\r\nX-Shadowtap-Health-Check: 1\r\n\r\n',
    ]);
    assert.deepEqual(statuses(text), [204, 204, 200]);
    assert.equal(closed, false, 'keep-alive');
    assert.equal(await metricValue(app, 'shadowtap_received_total'), before + 3);
  });

  it('HTTP/1.0 closes unless it asked for keep-alive, which the answer confirms', async () => {
    const plain = await exchange(app.ports.shadow, ['GET / HTTP/1.0\r\n\r\n']);
    assert.match(plain.text, /^HTTP\/1\.1 204 No Content\r\nConnection: close\r\n\r\n$/);
    assert.equal(plain.closed, true);
    const kept = await exchange(app.ports.shadow, ['GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n']);
    assert.match(kept.text, /^HTTP\/1\.1 204 No Content\r\nConnection: keep-alive\r\n\r\n$/);
    assert.equal(kept.closed, false);
  });

  it('Expect: 100-continue gets 100 Continue before the body, then the answer', async () => {
    const { text } = await exchange(
      app.ports.shadow,
      ['POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n', 'ok'],
      { gapMs: 50 },
    );
    assert.deepEqual(statuses(text), [100, 204]);
  });

  it('a header section over shadow.maxHeaderBytes is 431, counted as header_overflow', async () => {
    const before = await metricValue(app, 'shadowtap_rejected_total', { reason: 'header_overflow' });
    const { text, closed } = await exchange(app.ports.shadow, [
      `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`,
    ]);
    assert.match(text, /^HTTP\/1\.1 431 /);
    assert.equal(closed, true);
    assert.equal(await metricValue(app, 'shadowtap_rejected_total', { reason: 'header_overflow' }), before + 1);
  });

  it('a head that never completes is 408 and counted as timeout (slowloris)', async () => {
    const before = await metricValue(app, 'shadowtap_rejected_total', { reason: 'timeout' });
    const { text, closed } = await exchange(app.ports.shadow, ['GET / HTTP/1.1\r\nHost: h\r\nX-A: '], {
      quietMs: 3000,
    });
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.equal(closed, true);
    assert.equal(await metricValue(app, 'shadowtap_rejected_total', { reason: 'timeout' }), before + 1);
  });

  it('a body that stops arriving is analysed with what came, answered 408, not counted as rejected', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const rejectedBefore = await metricValue(app, 'shadowtap_rejected_total');
    const body = `q=${encodeURIComponent("1' UNION SELECT password FROM users--")}&rest=`;
    const { text, closed } = await exchange(
      app.ports.shadow,
      [
        `POST /search HTTP/1.1\r\nHost: h\r\nX-Request-Id: slow-body\r\n` +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n${body}`,
      ],
      { quietMs: 3000 },
    );
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.equal(closed, true);
    await sub.until(() => sub.detections().some((d) => d.requestId === 'slow-body'));
    assert.equal(await metricValue(app, 'shadowtap_rejected_total'), rejectedBefore);
    sub.close();
  });

  it('CL + TE: analysed as chunked with a protocol detection, answered, and the connection closed', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const { text, closed } = await exchange(app.ports.shadow, [
      'POST /x HTTP/1.1\r\nHost: h\r\nX-Request-Id: cl-te\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n',
    ]);
    assert.deepEqual(statuses(text), [204], 'the smuggled request is not read');
    assert.equal(closed, true);
    await sub.until(() => sub.detections().some((d) => d.requestId === 'cl-te' && d.ruleId === 'ST-PROTO-001'));
    sub.close();
  });

  it('conflicting Content-Length: the head is analysed, the answer is 400 and the connection closes', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const { text, closed } = await exchange(app.ports.shadow, [
      'POST /x HTTP/1.1\r\nHost: h\r\nX-Request-Id: cl-cl\r\nContent-Length: 3\r\nContent-Length: 7\r\n\r\nabcdefg',
    ]);
    assert.deepEqual(statuses(text), [400]);
    assert.equal(closed, true);
    await sub.until(() => sub.detections().some((d) => d.requestId === 'cl-cl' && d.ruleId === 'ST-PROTO-002'));
    sub.close();
  });

  it('a chunked body that turns malformed: analysed with what arrived, answered 400, counted once, not rejected', async () => {
    const sub = subscribe(app.ports.grpc);
    await waitForSubscribers(app, 1);
    const received = await metricValue(app, 'shadowtap_received_total');
    const rejected = await metricValue(app, 'shadowtap_rejected_total');
    const payload = "q=1' UNION SELECT password FROM users--";
    const { text, closed } = await exchange(app.ports.shadow, [
      'POST /search HTTP/1.1\r\nHost: h\r\nX-Request-Id: bad-chunk\r\n' +
        'Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `${payload.length.toString(16)}\r\n${payload}\r\nzz\r\n`,
    ]);
    assert.deepEqual(statuses(text), [400]);
    assert.equal(closed, true);
    await sub.until(() => sub.detections().some((d) => d.requestId === 'bad-chunk' && d.attackType === 'sqli'));
    assert.equal(await metricValue(app, 'shadowtap_received_total'), received + 1);
    assert.equal(await metricValue(app, 'shadowtap_rejected_total'), rejected);
    sub.close();
  });

  it('an idle keep-alive connection is closed after shadow.idleTimeoutMs', async () => {
    const { closed, text } = await exchange(app.ports.shadow, ['GET / HTTP/1.1\r\nHost: h\r\n\r\n'], {
      quietMs: 5000,
    });
    assert.deepEqual(statuses(text), [204]);
    assert.equal(closed, true);
  });
});

describe('serveHttp1 back-pressure', () => {
  it('a client that pipelines without reading its answers stops being read', async () => {
    // A socket whose peer never reads: writes are never acknowledged.
    const socket = new Duplex({ read() {}, write() {} });
    let begun = 0;
    const request = Buffer.from('GET /p HTTP/1.1\r\nHost: h\r\n\r\n');
    serveHttp1(socket as unknown as Socket, Buffer.alloc(0), {
      maxHeaderBytes: 4096,
      headersTimeoutMs: 10000,
      requestTimeoutMs: 10000,
      idleTimeoutMs: 10000,
      begin: (head, receivedAt, remoteAddress, answer) =>
        createCapture(
          {
            config: resolveConfig({}).shadow,
            maxBodyBytes: 1024,
            pipeline: { submit: () => ({ accepted: true }), submitAndWait: () => Promise.resolve(null) },
            ready: () => true,
          },
          { ...head, authority: head.host, remoteAddress, probe: false },
          receivedAt,
          (status) => {
            begun++;
            answer(status);
          },
        ),
      reject: () => undefined,
      logger: silentLogger(),
    });
    // 20,000 pipelined requests (~560 KB of answers) in 100 reads.
    for (let i = 0; i < 100; i++) socket.push(Buffer.concat(Array.from({ length: 200 }, () => request)));
    await new Promise((r) => setImmediate(r));
    assert.ok(begun > 0, 'some requests were answered');
    assert.ok(begun < 5000, `reading stopped after ${begun} of 20,000 requests (64 KiB of unread answers)`);
    socket.destroy();
  });
});

describe('shadow listener close()', () => {
  it('lets an in-flight HTTP/1.1 request finish, closes idle keep-alive connections, then resolves', async () => {
    const submitted: string[] = [];
    const listener = createShadowListener({
      config: resolveConfig({ shadow: { host: '127.0.0.1', port: 0, h2cPort: false } }).shadow,
      maxBodyBytes: 1024,
      pipeline: {
        submit: (ex) => (submitted.push(ex.target), { accepted: true }),
        submitAndWait: () => Promise.resolve(null),
      },
      metrics: createCoreMetrics(),
      logger: silentLogger(),
    });
    const { shared } = await listener.start();
    const connect = async (): Promise<{ socket: net.Socket; text: () => string; closed: Promise<void> }> => {
      const socket = net.connect(shared, '127.0.0.1');
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      await new Promise((resolve) => socket.on('connect', resolve));
      return { socket, text: () => text, closed };
    };
    const idle = await connect();
    idle.socket.write('GET /idle HTTP/1.1\r\nHost: h\r\n\r\n');
    const busy = await connect();
    busy.socket.write('POST /busy HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab');
    await new Promise((r) => setTimeout(r, 100));

    const closing = listener.close(5000);
    await idle.closed;
    assert.deepEqual(statuses(idle.text()), [204], 'the idle connection was answered, then closed');
    busy.socket.write('cd');
    await busy.closed;
    assert.match(busy.text(), /^HTTP\/1\.1 204 No Content\r\nConnection: close\r\n\r\n$/);
    await closing;
    assert.deepEqual(submitted, ['/idle', '/busy']);
  });
});
