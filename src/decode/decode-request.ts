import type { Limits } from '../config/config.js';
import type { Anomaly, CapturedExchange, DecodedRequest, Point } from '../core/model.js';

/**
 * First decoder: path, query, headers, cookies, form-urlencoded and JSON bodies.
 * Produces the canonical list of points; every limit hit becomes an anomaly.
 */
export function decodeRequest(exchange: CapturedExchange, limits: Limits, _deadline: number): DecodedRequest {
  const points: Point[] = [];
  const anomalies: Anomaly[] = [];
  const push = (location: string, value: string, chain: string[], kind: Point['kind'] = 'value'): void => {
    if (points.length >= limits.maxPoints) return;
    points.push({ location, value: value.slice(0, limits.maxValueBytes), chain, kind });
  };

  const q = exchange.target.indexOf('?');
  const rawPath = q >= 0 ? exchange.target.slice(0, q) : exchange.target;
  const rawQuery = q >= 0 ? exchange.target.slice(q + 1) : '';
  push('path.raw', rawPath, []);
  rawPath.split('/').forEach((seg, i) => {
    if (i > 0 && seg) push(`path.${i}`, safeDecode(seg), ['url']);
  });
  decodeForm(rawQuery, 'query', ['url'], push);

  for (const [name, value] of exchange.headers.slice(0, limits.maxHeaderCount)) {
    if (name === 'cookie') {
      for (const part of value.split(';')) {
        const eq = part.indexOf('=');
        const k = (eq >= 0 ? part.slice(0, eq) : part).trim();
        const v = eq >= 0 ? part.slice(eq + 1).trim() : '';
        if (k) push(`cookie.${k}`, safeDecode(v), ['url']);
      }
    } else {
      push(`header.${name}`, value, []);
    }
  }

  const contentType = exchange.headers.find(([n]) => n === 'content-type')?.[1]?.toLowerCase() ?? '';
  const body = Buffer.from(exchange.body.buffer, exchange.body.byteOffset, exchange.body.byteLength).toString('utf8');
  if (body.length > 0) {
    if (contentType.includes('json')) {
      try {
        walkJson(JSON.parse(body), 'body.json', 0, limits, push, anomalies);
      } catch {
        push('body.raw', body, []);
      }
    } else if (contentType.includes('x-www-form-urlencoded')) {
      decodeForm(body, 'body.form', ['url'], push);
    } else {
      push('body.raw', body, []);
    }
  }
  if (exchange.bodyTruncated) {
    anomalies.push({ code: 'body_truncated', location: 'body', detail: `body of ${exchange.bodyBytesSeen} bytes cut at ${exchange.body.byteLength}` });
  }
  return {
    method: exchange.method,
    host: exchange.host,
    path: rawPath,
    normalizedPath: safeDecode(rawPath),
    headers: exchange.headers,
    points,
    anomalies,
  };
}

type Push = (location: string, value: string, chain: string[], kind?: Point['kind']) => void;

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function decodeForm(text: string, prefix: string, chain: string[], push: Push): void {
  if (!text) return;
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = safeDecode(eq >= 0 ? pair.slice(0, eq) : pair);
    const value = eq >= 0 ? safeDecode(pair.slice(eq + 1)) : '';
    push(`${prefix}.${key}`, key, chain, 'key');
    push(`${prefix}.${key}`, value, chain);
  }
}

function walkJson(v: unknown, loc: string, depth: number, limits: Limits, push: Push, anomalies: Anomaly[]): void {
  if (depth > limits.maxDepth) {
    anomalies.push({ code: 'json_depth', location: loc, detail: `deeper than ${limits.maxDepth}` });
    return;
  }
  if (typeof v === 'string') push(loc, v, ['json']);
  else if (typeof v === 'number' || typeof v === 'boolean') push(loc, String(v), ['json']);
  else if (Array.isArray(v)) v.forEach((x, i) => walkJson(x, `${loc}[${i}]`, depth + 1, limits, push, anomalies));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      push(`${loc}.${k}`, k, ['json'], 'key');
      walkJson(x, `${loc}.${k}`, depth + 1, limits, push, anomalies);
    }
  }
}
