import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, it } from 'node:test';
import { startFloorListener } from '../bench/floor-listener.js';
import { freePort } from './helpers/nginx.js';

describe('bench floor listener', () => {
  it('answers every HTTP/1.1 request (pipelined, with bodies) and every h2c stream with 204', async () => {
    const [h1Port, h2cPort] = [await freePort(), await freePort()];
    const close = await startFloorListener(h1Port, h2cPort);
    try {
      const socket = net.connect(h1Port, '127.0.0.1');
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.write(
        'POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello' +
          'GET /b?q=1 HTTP/1.1\r\nhost: x\r\n\r\n' +
          'POST /c HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      );
      const deadline = Date.now() + 5000;
      while (got.split('204 No Content').length - 1 < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      socket.destroy();
      assert.equal(got.split('HTTP/1.1 204 No Content\r\n\r\n').length - 1, 3);

      const session = http2.connect(`http://127.0.0.1:${h2cPort}`);
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': '/upload' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.end('x'.repeat(70000));
      });
      session.close();
      assert.equal(status, 204);
    } finally {
      close();
    }
  });
});
