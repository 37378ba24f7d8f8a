import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { serializeH1 } from '../bench/load-gen-h1.js';
import { loadMix } from '../bench/load-mix.js';
import { createHttp1Parser, type Http1Head, type Http1Parser } from '../src/ingest/http1-parser.js';

interface Seen {
  head: Http1Head;
  body: string;
  ended: boolean;
}

/** A parser that records every request it delivers. */
function recorder(maxHeaderBytes = 8192): { parser: Http1Parser; seen: Seen[] } {
  const seen: Seen[] = [];
  const parser = createHttp1Parser(
    {
      onHead: (head) => seen.push({ head, body: '', ended: false }),
      onBody: (chunk) => (seen[seen.length - 1]!.body += chunk.toString('latin1')),
      onEnd: () => (seen[seen.length - 1]!.ended = true),
    },
    { maxHeaderBytes },
  );
  return { parser, seen };
}

/** Parses `wire` fed in the given pieces; returns what was delivered and the first error code. */
function parse(pieces: string[], maxHeaderBytes?: number): { seen: Seen[]; error: string | undefined } {
  const { parser, seen } = recorder(maxHeaderBytes);
  for (const piece of pieces) {
    const err = parser.execute(Buffer.from(piece, 'latin1'));
    if (err) return { seen, error: err.code };
  }
  return { seen, error: undefined };
}

const summary = (seen: Seen[]): unknown =>
  seen.map((s) => ({
    method: s.head.method,
    target: s.head.target,
    headers: s.head.headers,
    close: s.head.close,
    unframed: s.head.unframed,
    body: s.body,
    ended: s.ended,
  }));

const PIPELINE =
  'POST /a?x=1 HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 5\r\n\r\nhello' +
  'PUT /b HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n' +
  'GET /c HTTP/1.1\r\nHost: shop.example\r\n\r\n';

describe('http1-parser', () => {
  it('delivers method, target, version and headers: names lower-cased, order and duplicates kept', () => {
    const { seen, error } = parse([
      'GET /search?q=%27 HTTP/1.1\r\nHost: shop.example\r\nX-Dup: 1\r\nCookie: a=1\r\nx-dup:  2 \t\r\nX-Request-Id: r-1\r\n\r\n',
    ]);
    assert.equal(error, undefined);
    assert.equal(seen.length, 1);
    const { head } = seen[0]!;
    assert.equal(head.method, 'GET');
    assert.equal(head.target, '/search?q=%27');
    assert.equal(head.httpVersion, '1.1');
    assert.equal(head.host, 'shop.example');
    assert.equal(head.requestId, 'r-1');
    assert.deepEqual(head.headers, [
      ['host', 'shop.example'],
      ['x-dup', '1'],
      ['cookie', 'a=1'],
      ['x-dup', '2'],
      ['x-request-id', 'r-1'],
    ]);
    assert.equal(head.close, false);
    assert.equal(seen[0]!.ended, true);
  });

  it('parses pipelined requests with Content-Length and chunked bodies (extensions, trailers)', () => {
    const { seen, error } = parse([PIPELINE]);
    assert.equal(error, undefined);
    assert.deepEqual(
      seen.map((s) => [s.head.method, s.head.target, s.body, s.ended]),
      [
        ['POST', '/a?x=1', 'hello', true],
        ['PUT', '/b', 'abc0123456789abcdef', true],
        ['GET', '/c', '', true],
      ],
    );
  });

  it('gives the same result however the bytes are split across reads', () => {
    const whole = summary(parse([PIPELINE]).seen);
    for (let cut = 1; cut < PIPELINE.length; cut++) {
      assert.deepEqual(summary(parse([PIPELINE.slice(0, cut), PIPELINE.slice(cut)]).seen), whole, `cut at ${cut}`);
    }
    assert.deepEqual(summary(parse([...PIPELINE]).seen), whole, 'one byte at a time');
  });

  it('ignores empty lines before a request line, also when a CRLF is split', () => {
    const { seen, error } = parse(['\r\n\r', '\nGET / HTTP/1.1\r\nHost: h\r\n\r\n']);
    assert.equal(error, undefined);
    assert.equal(seen[0]!.head.target, '/');
  });

  it('CL and TE together: framed as chunked, analysed with both headers, connection closes after', () => {
    const { parser, seen } = recorder();
    const err = parser.execute(
      Buffer.from(
        'POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n' +
          '5\r\nGPOST\r\n0\r\n\r\n' +
          'GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n',
      ),
    );
    assert.equal(err, undefined);
    assert.equal(seen.length, 1, 'nothing after the ambiguous request is parsed');
    assert.equal(seen[0]!.body, 'GPOST');
    assert.equal(seen[0]!.head.close, true);
    assert.equal(seen[0]!.head.unframed, false);
    assert.deepEqual(
      seen[0]!.head.headers.map(([n]) => n),
      ['host', 'content-length', 'transfer-encoding'],
    );
    assert.equal(parser.phase(), 'done');
  });

  it('unframeable bodies (TE not ending in chunked, conflicting CL) deliver the head and close', () => {
    for (const framing of [
      'Transfer-Encoding: gzip',
      'Transfer-Encoding: chunked, gzip',
      'Transfer-Encoding: chunked, chunked',
      'Transfer-Encoding: xchunked',
      'Content-Length: 5\r\nContent-Length: 6',
      'Content-Length: 5, 6',
      'Content-Length: +5',
      'Content-Length: 0x5',
    ]) {
      const { parser, seen } = recorder();
      const err = parser.execute(Buffer.from(`POST / HTTP/1.1\r\nHost: h\r\n${framing}\r\n\r\nhello`));
      assert.equal(err, undefined, framing);
      assert.equal(seen.length, 1, framing);
      assert.equal(seen[0]!.head.unframed, true, framing);
      assert.equal(seen[0]!.head.close, true, framing);
      assert.equal(seen[0]!.body, '', framing);
      assert.equal(parser.phase(), 'done', framing);
    }
  });

  it('repeated identical Content-Length values are one length', () => {
    const { seen, error } = parse(['POST / HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello']);
    assert.equal(error, undefined);
    assert.equal(seen[0]!.head.unframed, false);
    assert.equal(seen[0]!.body, 'hello');
  });

  it('rejects what a lenient parser would read differently from the application', () => {
    const cases: Array<[string, string]> = [
      ['GARBAGE\r\n\r\n', 'request line'],
      ['GET / HTTP/2.0\r\n\r\n', 'version'],
      ['GET /a b HTTP/1.1\r\n\r\n', 'space in target'],
      ['GET / HTTP/1.1\r\nHost : h\r\n\r\n', 'space before colon'],
      ['GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n', 'obs-fold'],
      ['GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n', 'bare LF'],
      ['GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n', 'NUL in value'],
      ['GET / HTTP/1.1\r\n: v\r\n\r\n', 'empty name'],
      ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'chunk size not hex'],
      ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n', 'chunk size overflow'],
      ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n', 'no CRLF after chunk'],
      ['POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n', 'bad trailer'],
    ];
    for (const [wire, what] of cases) {
      assert.equal(parse([wire]).error, 'ST_ERR_HTTP_MALFORMED', what);
    }
  });

  it('header section over maxHeaderBytes is ST_ERR_HTTP_HEADER_OVERFLOW, complete or still arriving', () => {
    const big = `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`;
    assert.equal(parse([big], 1024).error, 'ST_ERR_HTTP_HEADER_OVERFLOW');
    const unfinished = `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(2000)}`;
    assert.equal(parse([unfinished], 1024).error, 'ST_ERR_HTTP_HEADER_OVERFLOW');
    assert.equal(parse([...unfinished], 1024).error, 'ST_ERR_HTTP_HEADER_OVERFLOW', 'byte at a time');
    assert.equal(parse([big], 4096).error, undefined);
  });

  it('keep-alive rules: HTTP/1.0 closes unless keep-alive, HTTP/1.1 stays open unless close', () => {
    const close = (wire: string): boolean => parse([wire]).seen[0]!.head.close;
    assert.equal(close('GET / HTTP/1.0\r\n\r\n'), true);
    assert.equal(close('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n'), false);
    assert.equal(close('GET / HTTP/1.1\r\n\r\n'), false);
    assert.equal(close('GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n'), true);
    assert.equal(close('GET / HTTP/1.1\r\nConnection: closed\r\n\r\n'), false);
  });

  it('Expect: 100-continue is reported only when a body follows', () => {
    const expect = (wire: string): boolean => parse([wire]).seen[0]!.head.expectContinue;
    assert.equal(expect('POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n'), true);
    assert.equal(expect('GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n'), false);
  });

  it('reports its phase: idle between requests, head and body while they arrive', () => {
    const { parser } = recorder();
    assert.equal(parser.phase(), 'idle');
    parser.execute(Buffer.from('POST / HTTP/1.1\r\nContent-'));
    assert.equal(parser.phase(), 'head');
    parser.execute(Buffer.from('Length: 4\r\n\r\nab'));
    assert.equal(parser.phase(), 'body');
    parser.execute(Buffer.from('cd'));
    assert.equal(parser.phase(), 'idle');
  });

  it('body slices delivered from a carried read are not overwritten by later reads', () => {
    const bodies: Buffer[] = [];
    const parser = createHttp1Parser(
      { onHead: () => undefined, onBody: (c) => bodies.push(c), onEnd: () => undefined },
      { maxHeaderBytes: 8192 },
    );
    parser.execute(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 6\r\n'));
    parser.execute(Buffer.from('\r\nabc'));
    parser.execute(Buffer.from('def'));
    parser.execute(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 3\r\n'));
    parser.execute(Buffer.from('\r\nxyz'));
    assert.deepEqual(
      bodies.map((b) => b.toString()),
      ['abc', 'def', 'xyz'],
    );
  });

  it('random bytes never throw: each read returns an error or nothing', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 0x1000000;
    const alphabet = 'GET POST / HTTP/1.1\r\n:;0123456789abcdef \tContent-Length:Transfer-Encoding:chunked\x00\xff';
    for (let i = 0; i < 2000; i++) {
      const { parser } = recorder(512);
      for (let r = 0; r < 4; r++) {
        let s = '';
        const n = Math.floor(rnd() * 200);
        for (let k = 0; k < n; k++) s += alphabet[Math.floor(rnd() * alphabet.length)];
        const err = parser.execute(Buffer.from(s, 'latin1'));
        if (err) {
          assert.match(err.code, /^ST_ERR_HTTP_(MALFORMED|HEADER_OVERFLOW)$/);
          break;
        }
      }
    }
  });

  it("reads 2,000 requests of the benchmark mix exactly as Node's http server does (length and chunked bodies)", async () => {
    // Every other body request is re-framed as chunked with uneven chunk sizes and extensions.
    const wire = loadMix({ host: 'shop.example.com', count: 2000, seed: 7 }).map((r, i) => {
      const bytes = serializeH1(r, 'shop.example.com');
      if (r.body === undefined || i % 2 === 0) return bytes;
      const text = bytes.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      const head = text.slice(0, headEnd).replace(/\r\ncontent-length: \d+/i, '\r\ntransfer-encoding: chunked');
      const body = bytes.subarray(headEnd + 4);
      const chunks: Buffer[] = [];
      for (let at = 0, n = 1; at < body.length; at += n, n = n * 3 + 1) {
        const piece = body.subarray(at, at + n);
        chunks.push(Buffer.from(`${piece.length.toString(16)};n=${n}\r\n`, 'latin1'), piece, Buffer.from('\r\n'));
      }
      return Buffer.concat([Buffer.from(head + '\r\n\r\n', 'latin1'), ...chunks, Buffer.from('0\r\n\r\n')]);
    });
    const stream = Buffer.concat(wire);

    type Seen = [method: string, target: string, headers: Array<[string, string]>, body: string];
    const fromNode: Seen[] = [];
    const server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const headers: Array<[string, string]> = [];
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
        }
        fromNode.push([req.method!, req.url!, headers, Buffer.concat(parts).toString('latin1')]);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.resume();
      socket.end(stream);
      await new Promise((resolve) => socket.on('close', resolve));
    } finally {
      server.close();
    }

    const ours: Seen[] = [];
    let body = '';
    let current: [string, string, Array<[string, string]>] | undefined;
    const parser = createHttp1Parser(
      {
        onHead: (h) => ((current = [h.method, h.target, h.headers]), (body = '')),
        onBody: (c) => (body += c.toString('latin1')),
        onEnd: () => ours.push([...current!, body] as Seen),
      },
      { maxHeaderBytes: 65536 },
    );
    // Reads of uneven sizes, as a socket delivers them.
    for (let at = 0, n = 1000; at < stream.length; at += n, n = (n * 7) % 65521 || 1) {
      assert.equal(parser.execute(stream.subarray(at, at + n)), undefined);
    }
    assert.equal(fromNode.length, 2000);
    assert.deepEqual(ours, fromNode);
  });
});
