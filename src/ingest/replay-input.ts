import { randomUUID } from 'node:crypto';
import { ERR_REPLAY_INPUT } from '../core/errors.js';
import type { CapturedExchange, HeaderList } from '../core/model.js';
import { clientAddress } from './client-address.js';

/**
 * Offline inputs for `shadowtap analyze`: HAR 1.2 files and JSON lines. Both become the
 * same CapturedExchange records the live listeners produce (source 'replay').
 */

interface JsonlRecord {
  id?: unknown;
  method?: unknown;
  target?: unknown;
  url?: unknown;
  headers?: unknown;
  body?: unknown;
  body_b64?: unknown;
  client_ip?: unknown;
}

function toHeaderList(headers: unknown, where: () => never): HeaderList {
  if (headers === undefined || headers === null) return [];
  if (Array.isArray(headers)) {
    return headers.map((h) => {
      if (Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string') {
        return [h[0].toLowerCase(), h[1]] as [string, string];
      }
      if (h && typeof h === 'object' && typeof h.name === 'string' && typeof h.value === 'string') {
        return [h.name.toLowerCase(), h.value] as [string, string];
      }
      return where();
    });
  }
  if (typeof headers === 'object') {
    const out: HeaderList = [];
    for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
      for (const value of Array.isArray(v) ? v : [v]) {
        if (typeof value !== 'string' && typeof value !== 'number') return where();
        out.push([k.toLowerCase(), String(value)]);
      }
    }
    return out;
  }
  return where();
}

function splitUrl(url: string): { host: string; target: string } | undefined {
  try {
    const u = new URL(url);
    return { host: u.host, target: `${u.pathname}${u.search}` };
  } catch {
    return undefined;
  }
}

function makeExchange(fields: {
  id?: string | undefined;
  method: string;
  host: string;
  target: string;
  headers: HeaderList;
  body: Uint8Array;
  receivedAt?: number;
  clientIp?: string | undefined;
}): CapturedExchange {
  const id = fields.id ?? randomUUID();
  const requestId = fields.headers.find(([n]) => n === 'x-request-id')?.[1] ?? id;
  return {
    id,
    requestId,
    source: 'replay',
    receivedAt: fields.receivedAt ?? Date.now(),
    clientIp: fields.clientIp ?? clientAddress(fields.headers, undefined, 0),
    host: fields.host,
    method: fields.method.toUpperCase(),
    target: fields.target,
    httpVersion: '1.1',
    headers: fields.headers,
    body: fields.body,
    bodyTruncated: false,
    bodyBytesSeen: fields.body.byteLength,
  };
}

/** Parses one JSON line (see README: `{"id"?, "method", "target"|"url", "headers", "body"?|"body_b64"?}`). */
export function parseJsonlRecord(line: string, file: string, lineNo: number): CapturedExchange {
  const fail = (why: string): never => {
    throw ERR_REPLAY_INPUT(file, lineNo, why);
  };
  let rec: JsonlRecord;
  try {
    rec = JSON.parse(line) as JsonlRecord;
  } catch (err) {
    return fail(`not valid JSON (${(err as Error).message})`);
  }
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return fail('each line must be a JSON object');
  if (typeof rec.method !== 'string' || rec.method === '') return fail('"method" must be a non-empty string');
  const headers = toHeaderList(rec.headers, () => fail('"headers" must be an object or a list of [name, value] pairs'));
  let host = headers.find(([n]) => n === 'host')?.[1] ?? '';
  let target: string;
  if (typeof rec.target === 'string') target = rec.target;
  else if (typeof rec.url === 'string') {
    const parts = splitUrl(rec.url) ?? fail(`"url" ${JSON.stringify(rec.url)} is not an absolute URL`);
    target = parts.target;
    host ||= parts.host;
  } else return fail('one of "target" (path and query) or "url" is required');
  let body: Uint8Array = new Uint8Array(0);
  if (typeof rec.body_b64 === 'string') body = Buffer.from(rec.body_b64, 'base64');
  else if (typeof rec.body === 'string') body = Buffer.from(rec.body, 'utf8');
  else if (rec.body !== undefined && rec.body !== null)
    return fail('"body" must be a string (use "body_b64" for bytes)');
  return makeExchange({
    id: typeof rec.id === 'string' || typeof rec.id === 'number' ? String(rec.id) : undefined,
    method: rec.method,
    host,
    target,
    headers,
    body,
    clientIp: typeof rec.client_ip === 'string' ? rec.client_ip : undefined,
  });
}

interface HarEntry {
  startedDateTime?: string;
  serverIPAddress?: string;
  request?: {
    method?: string;
    url?: string;
    headers?: unknown;
    postData?: { text?: string; encoding?: string; mimeType?: string };
  };
}

/** Parses a HAR 1.2 document into exchanges (one per entry). */
export function parseHar(text: string, file: string): CapturedExchange[] {
  let doc: { log?: { entries?: HarEntry[] } };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (err) {
    throw ERR_REPLAY_INPUT(file, 1, `not valid JSON (${(err as Error).message})`);
  }
  const entries = doc?.log?.entries;
  if (!Array.isArray(entries)) throw ERR_REPLAY_INPUT(file, 1, 'not a HAR file: log.entries is missing');
  return entries.map((entry, i) => {
    const where = `entry ${i}`;
    const fail = (why: string): never => {
      throw ERR_REPLAY_INPUT(file, 1, `${where}: ${why}`);
    };
    const req = entry.request ?? fail('request is missing');
    if (typeof req.method !== 'string' || typeof req.url !== 'string')
      fail('request.method and request.url are required');
    const parts = splitUrl(req.url!) ?? fail(`request.url ${JSON.stringify(req.url)} is not an absolute URL`);
    // HTTP/2 captures list pseudo-headers (":authority"…); they are not request headers.
    const headers = toHeaderList(req.headers, () => fail('request.headers must be a list of {name, value}')).filter(
      ([n]) => !n.startsWith(':'),
    );
    const text = req.postData?.text;
    const body =
      text === undefined
        ? new Uint8Array(0)
        : Buffer.from(text, req.postData?.encoding === 'base64' ? 'base64' : 'utf8');
    if (req.postData?.mimeType && !headers.some(([n]) => n === 'content-type'))
      headers.push(['content-type', req.postData.mimeType]);
    const started = entry.startedDateTime ? Date.parse(entry.startedDateTime) : NaN;
    return makeExchange({
      id: `${i + 1}`,
      method: req.method!,
      host: headers.find(([n]) => n === 'host')?.[1] ?? parts.host,
      target: parts.target,
      headers,
      body,
      receivedAt: Number.isNaN(started) ? undefined : started,
    } as Parameters<typeof makeExchange>[0]);
  });
}
