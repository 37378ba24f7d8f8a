import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { ERR_SINK_CONFIG, ERR_SINK_FAILED, ERR_SINK_REJECTED } from '../../core/errors.js';
import { HTTP_FORMATS } from './formats.js';
import { BATCH_ID_HEADER, type ReportBatch, type SendResult, type Sink, type SinkConfig } from './sink.js';

const gzip = promisify(gzipCb);

/** Bytes of an answer body read for per-item outcomes; the rest is discarded. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Statuses that say "this batch will never be accepted"; everything else is retried. */
const PERMANENT_STATUSES = new Set([400, 413, 422]);

/**
 * HTTP(S) sink: POSTs each batch in the configured format, with `x-shadowtap-batch-id`, the
 * configured headers (auth goes there) and optional gzip, over a keep-alive agent.
 * 2xx = delivered; 400/413/422 = the batch is refused for good (dropped, counted);
 * anything else, a timeout or a socket error = failure (retried from the spool).
 */
export function createHttpSink(config: SinkConfig): Sink {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw ERR_SINK_CONFIG(config.name, `not a URL: ${config.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw ERR_SINK_CONFIG(config.name, `http sink needs an http: or https: URL, got ${url.protocol}`);
  }
  const tlsUrl = url.protocol === 'https:';
  let ca: Buffer | undefined;
  if (config.caFile) {
    try {
      ca = readFileSync(config.caFile);
    } catch (err) {
      throw ERR_SINK_CONFIG(config.name, `cannot read caFile: ${(err as Error).message}`);
    }
  }
  const agent = tlsUrl
    ? new https.Agent({ keepAlive: true, maxSockets: 2, ...(ca ? { ca } : {}) })
    : new http.Agent({ keepAlive: true, maxSockets: 2 });
  const format = HTTP_FORMATS[config.format];
  const ctx = { index: config.index, hostname: hostname(), sink: config.name };

  const send = async (batch: ReportBatch, signal?: AbortSignal): Promise<SendResult | void> => {
    const text = format.encode(batch, ctx);
    const body = config.gzip ? await gzip(text) : Buffer.from(text, 'utf8');
    const headers: Record<string, string | number> = {
      'user-agent': 'shadowtap-reporter',
      ...config.headers,
      'content-type': format.contentType,
      'content-length': body.length,
      [BATCH_ID_HEADER]: batch.id,
    };
    if (config.gzip) headers['content-encoding'] = 'gzip';
    const { status, text: answer } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = (tlsUrl ? https : http).request(url, { method: 'POST', agent, headers, signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (err) => reject(signal?.aborted ? (signal.reason ?? err) : err));
      req.end(body);
    }).catch((err: unknown) => {
      if ((err as { code?: unknown }).code === ERR_SINK_FAILED.code) throw err;
      throw ERR_SINK_FAILED(config.name, (err as Error).message || String(err));
    });
    if (status >= 200 && status < 300) return format.checkResponse?.(answer, batch);
    const why = `HTTP ${status}${answer ? `: ${answer.slice(0, 200)}` : ''}`;
    if (PERMANENT_STATUSES.has(status)) throw ERR_SINK_REJECTED(config.name, why);
    throw ERR_SINK_FAILED(config.name, why);
  };

  return {
    name: config.name,
    send,
    async close() {
      agent.destroy();
    },
  };
}
