import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { runH1, runH2, type LoadSpec } from '../bench/load-gen.js';
import { createHpackDecoder, encodeRequestHeaders, huffmanDecode } from '../bench/load-gen-hpack.js';
import { loadMix, type MixRequest } from '../bench/load-mix.js';

const HOST = 'shop.example.com';

interface Received {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function listen(server: net.Server | http.Server | http2.Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function close(server: net.Server | http.Server | http2.Http2Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * An h2c server whose close() also destroys its sessions: node:http2's close() otherwise
 * waits for sessions it sent GOAWAY on, forever.
 */
function h2Server(handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void): http2.Http2Server {
  const server = http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  const closeServer = server.close.bind(server);
  server.close = (cb?: (err?: Error) => void) => {
    for (const s of sessions) s.destroy();
    return closeServer(cb);
  };
  return server;
}

/** A bound on the run; every test ends it early with `requests`. */
const spec = (protocol: 'h1' | 'h2', port: number, extra: Partial<LoadSpec>): LoadSpec => ({
  protocol,
  port,
  durationS: 20,
  connections: 2,
  host: HOST,
  seed: 42,
  mixCount: 0,
  ...extra,
});

const key = (method: string, path: string, body: string): string => `${method} ${path}\n${body}`;

/** Every request the server saw is one of the mix, in the cycled order's proportions, headers and body intact. */
function assertMatchesMix(received: Received[], mix: MixRequest[], count: number, h2: boolean): void {
  const expected = Array.from({ length: count }, (_, k) => mix[k % mix.length]!);
  assert.deepEqual(
    received.map((r) => key(r.method, r.path, r.body)).sort(),
    expected.map((r) => key(r.method, r.path, r.body ?? '')).sort(),
  );
  const byKey = new Map(mix.map((r) => [key(r.method, r.path, r.body ?? ''), r]));
  for (const r of received) {
    const m = byKey.get(key(r.method, r.path, r.body))!;
    for (const [name, value] of Object.entries(m.headers)) {
      assert.equal(r.headers[h2 && name === 'host' ? ':authority' : name], value, `${name} of ${m.method} ${m.path}`);
    }
    if (m.body !== undefined) assert.equal(r.headers['content-length'], String(Buffer.byteLength(m.body)));
  }
}

function collect(req: http.IncomingMessage | http2.Http2ServerRequest, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => done(Buffer.concat(chunks).toString()));
}

describe('load generator: HPACK', () => {
  it('decodes the RFC 7541 C.4.1 Huffman-coded request', () => {
    const block = Buffer.from('828684418cf1e3c2e5f23a6ba0ab90f4ff', 'hex');
    assert.deepEqual(createHpackDecoder().decode(block), [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ]);
    assert.throws(() => huffmanDecode(Buffer.from([0xf1, 0x00]), 0, 2), /Huffman/);
  });

  it('keeps a dynamic table: indexing, references, size updates and eviction', () => {
    const d = createHpackDecoder(4096);
    // Literal with incremental indexing, new name 'x-a' = 'one' → dynamic index 62.
    const lit = (name: string, value: string): number[] => [
      0x40,
      name.length,
      ...Buffer.from(name),
      value.length,
      ...Buffer.from(value),
    ];
    assert.deepEqual(d.decode(Buffer.from([...lit('x-a', 'one'), 0xbe])), [
      ['x-a', 'one'],
      ['x-a', 'one'],
    ]);
    // ':status' (static name 8) with value '201', indexed: newest entry is 62, 'x-a' moves to 63.
    assert.deepEqual(d.decode(Buffer.from([0x48, 3, ...Buffer.from('201'), 0xbe, 0xbf])), [
      [':status', '201'],
      [':status', '201'],
      ['x-a', 'one'],
    ]);
    // Size update to 42 bytes keeps only the newest entry (7 + 3 + 32 = 42 bytes).
    assert.deepEqual(d.decode(Buffer.from([0x3f, 0x0b, 0xbe])), [[':status', '201']]);
    assert.throws(() => d.decode(Buffer.from([0xbf])), /bad index/);
    assert.throws(() => d.decode(Buffer.from([0x3f, 0xe2, 0x1f])), /above the limit/);
  });

  it('encodes request headers that decode back unchanged', () => {
    const fields: Array<[string, string]> = [
      [':method', 'POST'],
      [':scheme', 'http'],
      [':authority', HOST],
      [':path', '/a?b=' + 'x'.repeat(300)],
      ['cookie', 'session=abc'],
      ['x-custom', 'v'],
    ];
    assert.deepEqual(createHpackDecoder().decode(encodeRequestHeaders(fields)), fields);
  });
});

describe('load generator: HTTP/1.1', () => {
  it('sends every request of the mix intact, closed and open loop', async () => {
    const received: Received[] = [];
    const server = http.createServer((req, res) =>
      collect(req, (body) => {
        received.push({ method: req.method!, path: req.url!, headers: req.headers, body });
        res.writeHead(204).end();
      }),
    );
    const port = await listen(server);
    const mix = loadMix({ host: HOST, count: 40, seed: 7 });
    try {
      const closed = await runH1(spec('h1', port, { connections: 4, requests: 80 }), mix);
      assert.equal(closed.sent, 80);
      assert.equal(closed.completed, 80);
      assert.deepEqual(closed.statuses, { 204: 80 });
      assert.equal(closed.errors, 0);
      assertMatchesMix(received, mix, 80, false);

      received.length = 0;
      const open = await runH1(spec('h1', port, { connections: 8, rate: 2000, requests: 120 }), mix);
      assert.equal(open.sent + open.unsent, 120);
      assert.equal(open.completed, open.sent);
      assert.equal(open.errors, 0);
      assert.equal(received.length, open.sent);
      assert.ok(open.generatorCpuS >= 0);
    } finally {
      await close(server);
    }
  });

  it('parses content-length, chunked, 1xx, 204/304, Connection: close and read-until-close responses', async () => {
    // Canned responses in order, written in small pieces so heads, chunk lines and bodies
    // arrive split across reads.
    const responses = [
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
      'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: y\r\n\r\n',
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n',
      'HTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.0 203 Non-Authoritative\r\n\r\nuntil the server closes',
    ];
    let n = 0;
    const server = net.createServer((socket) => {
      let pending = '';
      socket.on('data', (d: Buffer) => {
        pending += d.toString('latin1');
        while (pending.includes('\r\n\r\n')) {
          pending = pending.slice(pending.indexOf('\r\n\r\n') + 4);
          const i = n++ % responses.length;
          const text = responses[i]!;
          const pieces = text.match(/[\s\S]{1,7}/g)!;
          const writeNext = (): void => {
            const piece = pieces.shift();
            if (piece !== undefined) {
              socket.write(piece, 'latin1');
              setTimeout(writeNext, 1);
            } else if (i >= 4) socket.end();
          };
          writeNext();
        }
      });
      socket.on('error', () => {});
    });
    const port = await listen(server);
    const mix: MixRequest[] = [{ method: 'GET', path: '/x', headers: { host: HOST }, kind: 'get' }];
    try {
      const r = await runH1(spec('h1', port, { connections: 1, requests: 12 }), mix);
      assert.deepEqual(r.statuses, { 200: 2, 201: 2, 202: 2, 203: 2, 204: 2, 304: 2 });
      assert.equal(r.errors, 0);
      // Four closes; the last one ends the run, so three reconnects.
      assert.equal(r.reconnects, 3);
    } finally {
      await close(server);
    }
  });

  it('survives a server that drops connections: counted as errors, no hang', async () => {
    let n = 0;
    const server = http.createServer((req, res) =>
      collect(req, () => {
        if (++n % 3 === 0) req.socket.destroy();
        else res.writeHead(200, { 'content-length': '2' }).end('ok');
      }),
    );
    const port = await listen(server);
    const mix = loadMix({ host: HOST, count: 10, seed: 3 });
    try {
      for (const extra of [{ requests: 30 }, { rate: 1000, requests: 30 }]) {
        const r = await runH1(spec('h1', port, { connections: 2, ...extra }), mix);
        assert.ok(r.errors > 0, 'dropped requests are errors');
        assert.equal(r.completed + r.errors, r.sent);
        assert.equal(r.ok, r.completed);
        assert.ok(r.reconnects > 0);
      }
    } finally {
      server.closeAllConnections();
      await close(server);
    }
  });
});

describe('load generator: h2c', () => {
  it('sends every request of the mix intact, closed and open loop', async () => {
    const received: Received[] = [];
    const server = h2Server((req, res) =>
      collect(req, (body) => {
        received.push({ method: req.method, path: req.url, headers: req.headers, body });
        res.writeHead(204).end();
      }),
    );
    const port = await listen(server);
    const mix = loadMix({ host: HOST, count: 40, seed: 7 });
    try {
      const closed = await runH2(spec('h2', port, { connections: 2, streamsPerSession: 4, requests: 80 }), mix);
      assert.equal(closed.completed, 80);
      assert.deepEqual(closed.statuses, { 204: 80 });
      assert.equal(closed.errors, 0);
      assertMatchesMix(received, mix, 80, true);

      received.length = 0;
      const open = await runH2(spec('h2', port, { connections: 2, rate: 2000, requests: 120 }), mix);
      assert.equal(open.sent + open.unsent, 120);
      assert.equal(open.completed, open.sent);
      assert.equal(open.errors, 0);
      assert.equal(received.length, open.sent);
    } finally {
      await close(server);
    }
  });

  it('respects flow control both ways: 200 KiB request bodies, 1.5 MiB responses', async () => {
    const bodies: string[] = [];
    const response = Buffer.alloc(1536 * 1024, 'r');
    const server = h2Server((req, res) =>
      collect(req, (body) => {
        bodies.push(body);
        res.writeHead(200).end(response);
      }),
    );
    const port = await listen(server);
    const big = 'b'.repeat(200 * 1024);
    const mix: MixRequest[] = [
      { method: 'POST', path: '/upload', headers: { host: HOST, 'content-type': 'text/plain' }, body: big, kind: 'x' },
    ];
    try {
      // 12 × 1.5 MiB exceeds the 16 MiB connection window: our WINDOW_UPDATEs must flow.
      const r = await runH2(spec('h2', port, { connections: 1, streamsPerSession: 3, requests: 12 }), mix);
      assert.deepEqual(r.statuses, { 200: 12 });
      assert.equal(r.errors, 0);
      assert.equal(bodies.length, 12);
      for (const b of bodies) assert.equal(b, big);
    } finally {
      await close(server);
    }
  });

  it('reads statuses the server Huffman-codes and indexes, across dynamic-table evictions', async () => {
    let n = 0;
    const server = h2Server((req, res) => {
      const status = Number(req.url.slice(3));
      // A distinct 300-byte header per response keeps the server's table evicting.
      res.writeHead(status, { 'x-pad': `${n++}`.padEnd(300, 'p') }).end();
    });
    const port = await listen(server);
    const mix: MixRequest[] = [201, 403, 503, 204, 200, 429].map((s) => ({
      method: 'GET',
      path: `/s/${s}`,
      headers: { host: HOST },
      kind: 'get',
    }));
    try {
      const r = await runH2(spec('h2', port, { connections: 1, streamsPerSession: 1, requests: 60 }), mix);
      assert.deepEqual(r.statuses, { 200: 10, 201: 10, 204: 10, 403: 10, 429: 10, 503: 10 });
      assert.equal(r.ok, 30);
      assert.equal(r.errors, 0);
    } finally {
      await close(server);
    }
  });

  it('survives RST_STREAM, GOAWAY and dropped sessions: counted as errors, no hang', async () => {
    let n = 0;
    const server = h2Server((req, res) => {
      const i = ++n;
      if (i % 5 === 0) req.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      else if (i % 13 === 0) req.stream.session?.destroy();
      else if (i % 17 === 0) {
        res.writeHead(204).end();
        req.stream.session?.goaway();
      } else res.writeHead(204).end();
    });
    const port = await listen(server);
    const mix = loadMix({ host: HOST, count: 10, seed: 3 });
    try {
      for (const extra of [{ requests: 60 }, { rate: 1000, requests: 60 }]) {
        const r = await runH2(spec('h2', port, { connections: 2, streamsPerSession: 4, ...extra }), mix);
        assert.ok(r.errors > 0, 'reset and dropped streams are errors');
        assert.equal(r.completed + r.errors, r.sent);
        assert.ok(r.reconnects > 0);
      }
    } finally {
      await close(server);
    }
  });
});
