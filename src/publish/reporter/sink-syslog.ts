import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { hostname } from 'node:os';
import tls from 'node:tls';
import { ERR_SINK_CONFIG, ERR_SINK_FAILED } from '../../core/errors.js';
import { formatSyslogMessage, octetCounted, type SyslogHeader } from './format-syslog.js';
import type { ReportBatch, Sink, SinkConfig } from './sink.js';

const DEFAULT_PORT = { udp: 514, tcp: 514, tls: 6514 } as const;

/**
 * Largest UDP payload over IPv4 is 65507 bytes; a longer message would fail on every retry
 * and block the sink, so it is cut (receivers treat syslog MSG as truncatable).
 */
const MAX_UDP_BYTES = 65000;

/**
 * Syslog sink, one RFC 5424 message per detection: `udp://host:port` (one datagram each,
 * RFC 5426; no delivery guarantee), `tcp://host:port` (RFC 6587 octet counting) or
 * `tls://host:port` (RFC 5425; `caFile` to trust a private CA). A stream transport counts a
 * batch delivered once the kernel accepted every byte of it.
 */
export function createSyslogSink(config: SinkConfig): Sink {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw ERR_SINK_CONFIG(config.name, `not a URL: ${config.url}`);
  }
  const transport = url.protocol.slice(0, -1);
  if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') {
    throw ERR_SINK_CONFIG(config.name, `syslog URL must be udp://, tcp:// or tls://, got ${url.protocol}`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : DEFAULT_PORT[transport];
  let ca: Buffer | undefined;
  if (config.caFile) {
    try {
      ca = readFileSync(config.caFile);
    } catch (err) {
      throw ERR_SINK_CONFIG(config.name, `cannot read caFile: ${(err as Error).message}`);
    }
  }
  const header: SyslogHeader = {
    facility: config.facility,
    appName: config.appName,
    hostname: hostname(),
    procId: String(process.pid),
  };
  const fail = (err: unknown): never => {
    if ((err as { code?: unknown }).code === ERR_SINK_FAILED.code) throw err;
    throw ERR_SINK_FAILED(config.name, (err as Error).message || String(err));
  };
  const messages = (batch: ReportBatch): Buffer[] =>
    batch.detections.map((d) => formatSyslogMessage(d, batch.id, header));

  if (transport === 'udp') {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    socket.unref();
    socket.on('error', () => undefined);
    return {
      name: config.name,
      async send(batch, signal) {
        for (const msg of messages(batch)) {
          if (signal?.aborted) fail(signal.reason);
          const datagram = msg.length > MAX_UDP_BYTES ? msg.subarray(0, MAX_UDP_BYTES) : msg;
          await new Promise<void>((resolve, reject) =>
            socket.send(datagram, port, host, (err) => (err ? reject(err) : resolve())),
          ).catch(fail);
        }
      },
      async close() {
        await new Promise<void>((resolve) => socket.close(() => resolve()));
      },
    };
  }

  let socket: net.Socket | undefined;
  const connect = (signal?: AbortSignal): Promise<net.Socket> => {
    if (socket && !socket.destroyed) return Promise.resolve(socket);
    return new Promise<net.Socket>((resolve, reject) => {
      const s =
        transport === 'tls'
          ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...(ca ? { ca } : {}) })
          : net.connect({ host, port });
      const ready = transport === 'tls' ? 'secureConnect' : 'connect';
      const onAbort = (): void => {
        s.destroy();
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      s.once('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      s.once(ready, () => {
        signal?.removeEventListener('abort', onAbort);
        s.setKeepAlive(true, 30_000);
        // The receiver never talks back; a close or error just means: connect again next time.
        s.on('error', () => s.destroy());
        s.on('data', () => undefined);
        socket = s;
        resolve(s);
      });
    });
  };

  return {
    name: config.name,
    async send(batch, signal) {
      const s = await connect(signal).catch(fail);
      const frame = Buffer.concat(messages(batch).map(octetCounted));
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          s.destroy();
          reject(signal?.reason ?? new Error('aborted'));
        };
        const onClose = (): void => reject(new Error('connection closed'));
        signal?.addEventListener('abort', onAbort, { once: true });
        s.once('close', onClose);
        s.write(frame, (err) => {
          signal?.removeEventListener('abort', onAbort);
          s.off('close', onClose);
          if (err) {
            s.destroy();
            reject(err);
          } else resolve();
        });
      }).catch(fail);
    },
    async close() {
      const s = socket;
      socket = undefined;
      if (!s || s.destroyed) return;
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
        setTimeout(() => s.destroy(), 1000).unref();
      });
    },
  };
}
