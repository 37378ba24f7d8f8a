/**
 * Decode throughput, single thread (what one pool worker does per request before the
 * detectors run): small GETs, 2 KB JSON, 20 KB multipart, gzip JSON, and a weighted mix.
 */
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { resolveConfig } from '../src/config/config.js';
import type { CapturedExchange, HeaderList } from '../src/core/model.js';
import { decodeRequest } from '../src/decode/decode-request.js';
import { capturedExchange } from '../test/helpers/exchange.js';
import type { BenchReport } from './bench-types.js';

const LIMITS = resolveConfig({}).analysis.limits;
/** Measured time per case, ms (after warm-up). */
const RUN_MS = 2000;
const WARMUP = 2000;

const BROWSER: HeaderList = [
  ['host', 'shop.example.com'],
  [
    'user-agent',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  ],
  ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'],
  ['accept-language', 'en-US,en;q=0.9,fr;q=0.8'],
  ['accept-encoding', 'gzip, deflate, br'],
  ['referer', 'https://shop.example.com/catalog?category=shoes&page=1'],
  ['cookie', '_ga=GA1.2.1234567890.1700000000; session=eyJ1aWQiOjQyfQ.ZmFrZXNpZw; theme=dark'],
  ['x-request-id', '5f0c6b9e-8e1b-4b7e-9a53-2b7f0b8f4c11'],
  ['x-forwarded-for', '203.0.113.7, 10.0.0.2'],
  ['x-envoy-internal', 'true'],
  ['sec-fetch-mode', 'navigate'],
  ['sec-ch-ua-platform', '"Windows"'],
];

function exchange(method: string, target: string, headers: HeaderList, body: Buffer): CapturedExchange {
  return capturedExchange({ id: 'b', source: 'mirror', clientIp: '203.0.113.7', method, target, headers, body });
}

function json2k(): Buffer {
  const items = Array.from({ length: 12 }, (_, i) => ({
    sku: `SKU-${1000 + i}`,
    name: `Running shoe model ${i}`,
    qty: (i % 3) + 1,
    price: 59.9 + i,
    tags: ['sport', 'outdoor'],
  }));
  const doc = {
    orderId: 'A-2024-000042',
    customer: { name: 'Alice Martin', email: 'alice@example.com' },
    items,
    note: 'Leave at the door, please.',
  };
  return Buffer.from(JSON.stringify(doc));
}

function multipart20k(): { body: Buffer; type: string } {
  const b = '----WebKitFormBoundaryq1w2e3r4t5y6u7i8';
  const photo = Buffer.alloc(16 * 1024);
  for (let i = 0; i < photo.length; i++) photo[i] = (i * 2654435761) >>> 24;
  photo.set([0xff, 0xd8, 0xff, 0xe0], 0);
  const text = 'Line of a plain-text attachment.\n'.repeat(90);
  const body = Buffer.concat([
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="title"\r\n\r\nHoliday photos\r\n`),
    Buffer.from(
      `--${b}\r\nContent-Disposition: form-data; name="description"\r\n\r\nBeach & mountains, summer 2024\r\n`,
    ),
    Buffer.from(
      `--${b}\r\nContent-Disposition: form-data; name="photo"; filename="IMG_0042.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
    ),
    photo,
    Buffer.from(
      `\r\n--${b}\r\nContent-Disposition: form-data; name="notes"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\n${text}\r\n--${b}--\r\n`,
    ),
  ]);
  return { body, type: `multipart/form-data; boundary=${b}` };
}

function gzipJson(): Buffer {
  const rows = Array.from({ length: 80 }, (_, i) => ({ id: i, event: 'page_view', path: `/p/${i}`, ms: 120 + i }));
  return gzipSync(JSON.stringify({ batch: rows }));
}

interface Case {
  name: string;
  exchange: CapturedExchange;
  /** Request bytes on the wire: request line, headers, body as received. */
  wireBytes: number;
}

function wire(e: CapturedExchange): number {
  let n = e.method.length + e.target.length + 11;
  for (const [k, v] of e.headers) n += k.length + v.length + 4;
  return n + e.body.length;
}

function cases(): Case[] {
  const mp = multipart20k();
  const list: Array<[string, CapturedExchange]> = [
    ['small GET', exchange('GET', '/api/products?id=42&sort=price&page=2&q=running%20shoes', BROWSER, Buffer.alloc(0))],
    ['2 KB JSON', exchange('POST', '/api/orders', [...BROWSER, ['content-type', 'application/json']], json2k())],
    ['20 KB multipart', exchange('POST', '/upload', [...BROWSER, ['content-type', mp.type]], mp.body)],
    [
      'gzip JSON',
      exchange(
        'POST',
        '/api/events',
        [...BROWSER, ['content-type', 'application/json'], ['content-encoding', 'gzip']],
        gzipJson(),
      ),
    ],
  ];
  return list.map(([name, exchange]) => ({ name, exchange, wireBytes: wire(exchange) }));
}

function measure(name: string, items: Case[]): Record<string, string | number> {
  let points = 0;
  for (let i = 0; i < WARMUP; i++) decodeRequest(items[i % items.length]!.exchange, LIMITS, performance.now() + 1000);
  const times: number[] = [];
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let i = 0;
  while (performance.now() - start < RUN_MS) {
    const c = items[i++ % items.length]!;
    const t = performance.now();
    const r = decodeRequest(c.exchange, LIMITS, t + 1000);
    times.push(performance.now() - t);
    points += r.points.length;
    bytes += c.wireBytes;
  }
  const elapsed = (performance.now() - start) / 1000;
  // CPU seconds of this process: on a shared machine wall time includes time other
  // processes took; CPU time is what one worker thread would spend.
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  times.sort((a, b) => a - b);
  const avgBytes = bytes / times.length;
  return {
    case: name,
    'request bytes': Math.round(avgBytes),
    'points/req': Math.round(points / times.length),
    'req/s': Math.round(times.length / elapsed),
    'MB/s': Number((bytes / elapsed / 1e6).toFixed(1)),
    'req/CPU-s': Math.round(times.length / cpuSeconds),
    'MB/CPU-s': Number((bytes / cpuSeconds / 1e6).toFixed(1)),
    'p50 µs': Number((times[Math.floor(times.length * 0.5)]! * 1000).toFixed(1)),
    'p99 µs': Number((times[Math.floor(times.length * 0.99)]! * 1000).toFixed(1)),
  };
}

export default async (): Promise<BenchReport> => {
  const all = cases();
  const rows = all.map((c) => measure(c.name, [c]));
  // Realistic mix: mostly small GETs (70 %), JSON APIs (15 %), gzip JSON (10 %), uploads (5 %).
  const [get, json, mp, gz] = all as [Case, Case, Case, Case];
  const mix = [...Array<Case>(14).fill(get), ...Array<Case>(3).fill(json), ...Array<Case>(2).fill(gz), mp];
  rows.push(measure('mix 70/15/10/5', mix));
  return {
    name: 'Decode throughput, single thread',
    rows,
    notes: [
      `decodeRequest only (no detectors), default limits, ${RUN_MS / 1000} s per row after ${WARMUP} warm-up calls, one thread.`,
      'MB/s counts request bytes as received (request line, headers, body; gzip counted compressed).',
      'req/s and MB/s use wall time; req/CPU-s and MB/CPU-s divide by the CPU time of the process (robust when other processes share the cores). p50/p99 are per-call wall times.',
      'small GET: 12 browser headers + cookie, 4 query parameters; 2 KB JSON: 12-item order; 20 KB multipart: 2 fields, a 16 KB JPEG-like binary and a 3 KB text file; gzip JSON: 5.8 KB of events gzipped.',
    ],
  };
};
