/**
 * The benchmark's floor: a listener that does only what no shadow listener can skip — read
 * the request with shadowtap's own HTTP/1.1 parser (or Node's HTTP/2 session for h2c) and
 * answer 204 — with no capture, no admission, no analysis and no worker threads. Run at the
 * same offered rate, with the same generator and connections as shadowtap's 5× phase, it
 * shows what this machine, its kernel and the load generator allow at that rate: latency
 * above the floor is shadowtap's; latency at the floor is not.
 *
 * Started as its own process (`node dist/bench/floor-listener.js <h1Port> <h2cPort>`); prints
 * `ready` on stdout once both ports listen.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { createHttp1Parser } from '../src/ingest/http1-parser.js';

const NO_CONTENT = Buffer.from('HTTP/1.1 204 No Content\r\n\r\n', 'latin1');

/** Starts both floor listeners on 127.0.0.1; resolves with a close function. */
export async function startFloorListener(h1Port: number, h2cPort: number): Promise<() => void> {
  const tcp = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    const parser = createHttp1Parser(
      {
        onHead() {},
        onBody() {},
        onEnd() {
          socket.write(NO_CONTENT);
        },
      },
      { maxHeaderBytes: 16384 },
    );
    socket.on('data', (chunk: Buffer) => {
      if (parser.execute(chunk)) socket.destroy();
    });
  });
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  h2.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.resume();
    stream.on('end', () => {
      if (!stream.destroyed) stream.respond({ ':status': 204 }, { endStream: true });
    });
  });
  await Promise.all([
    new Promise<void>((resolve) => tcp.listen(h1Port, '127.0.0.1', resolve)),
    new Promise<void>((resolve) => h2.listen(h2cPort, '127.0.0.1', resolve)),
  ]);
  return () => {
    tcp.close();
    h2.close();
  };
}

if (process.argv[1]?.endsWith('floor-listener.js')) {
  const close = await startFloorListener(Number(process.argv[2]), Number(process.argv[3]));
  process.once('SIGTERM', () => {
    close();
    process.exit(0);
  });
  process.stdout.write('ready\n');
}
