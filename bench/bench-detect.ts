/**
 * Detection throughput on one thread (what one worker of the pool does): whole requests through
 * `analyzeExchange` (decode + every detector, default config), and single values through each of
 * the grammar detectors, on a benign mix (corpus/benign) and an attack mix (corpus/attacks).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { resolveConfig } from '../src/config/config.js';
import type { CapturedExchange, DetectContext, Detector, Point } from '../src/core/model.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';
import { codeInjectionDetector } from '../src/detect/detect-code-injection.js';
import { rceDetector } from '../src/detect/detect-rce.js';
import { sqliDetector } from '../src/detect/detect-sqli.js';
import { xssDetector } from '../src/detect/detect-xss.js';
import { capturedExchange } from '../test/helpers/exchange.js';
import type { BenchReport } from './bench-types.js';

const corpus = new URL('../corpus/', import.meta.url);
const HEADERS: Array<[string, string]> = [
  ['host', 'shop.example.com'],
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'],
  ['accept', 'text/html,application/xhtml+xml'],
];

function exchange(
  method: string,
  target: string,
  headers: Array<[string, string]>,
  body: Uint8Array,
): CapturedExchange {
  return capturedExchange({ id: 'b', clientIp: '127.0.0.1', method, target, headers, body });
}

function textValues(dir: string): string[] {
  const url = new URL(`${dir}/`, corpus);
  return readdirSync(url)
    .filter((f) => f.endsWith('.txt'))
    .flatMap((f) => readFileSync(new URL(f, url), 'utf8').split('\n'))
    .filter((l) => l.trim() && !l.startsWith('# '))
    .map((l) => l.replace(/\\n/g, '\n'));
}

function jsonlRequests(dir: string): CapturedExchange[] {
  const url = new URL(`${dir}/`, corpus);
  const out: CapturedExchange[] = [];
  for (const f of readdirSync(url).filter((x) => x.endsWith('.jsonl'))) {
    for (const line of readFileSync(new URL(f, url), 'utf8').split('\n')) {
      // Corpus files carry `# ` comment lines (the eval reads them the same way).
      if (!line.trim() || line.startsWith('# ')) continue;
      const r = JSON.parse(line) as {
        method?: string;
        target?: string;
        uri?: string;
        headers?: Array<[string, string]>;
        body?: string;
        bodyBase64?: string;
      };
      const body =
        r.bodyBase64 !== undefined
          ? new Uint8Array(Buffer.from(r.bodyBase64, 'base64'))
          : new TextEncoder().encode(r.body ?? '');
      out.push(
        exchange(r.method ?? 'GET', r.target ?? r.uri ?? '/', Array.isArray(r.headers) ? r.headers : HEADERS, body),
      );
    }
  }
  return out;
}

/** Values become one GET with the value in the query and one JSON POST. */
function valueRequests(values: string[]): CapturedExchange[] {
  const enc = new TextEncoder();
  return values.flatMap((v, i) =>
    i % 2 === 0
      ? [exchange('GET', `/search?q=${encodeURIComponent(v)}&page=1`, HEADERS, new Uint8Array())]
      : [
          exchange(
            'POST',
            '/api/items',
            [...HEADERS, ['content-type', 'application/json']],
            enc.encode(JSON.stringify({ note: v })),
          ),
        ],
  );
}

interface Timing {
  perSecond: number;
  findingsPerSecond: number;
  meanUs: number;
  p99Us: number;
  findings: number;
}

/** Runs `fn` over `items` round-robin for about `ms` milliseconds (after one warm-up pass). */
function measure<T>(items: T[], ms: number, fn: (x: T) => number): Timing {
  for (const x of items.slice(0, 500)) fn(x);
  const samples: number[] = [];
  let findings = 0;
  const start = performance.now();
  let i = 0;
  while (performance.now() - start < ms) {
    const t0 = performance.now();
    findings += fn(items[i % items.length]!);
    samples.push(performance.now() - t0);
    i++;
  }
  const elapsed = performance.now() - start;
  samples.sort((a, b) => a - b);
  return {
    perSecond: Math.round(i / (elapsed / 1000)),
    findingsPerSecond: Math.round(findings / (elapsed / 1000)),
    meanUs: Math.round((elapsed / i) * 1000),
    p99Us: Math.round((samples[Math.floor(samples.length * 0.99)] ?? 0) * 1000),
    findings,
  };
}

export default async function benchDetect(): Promise<BenchReport[]> {
  const analysis = resolveConfig({}).analysis;
  const benignValues = textValues('benign');
  const attackValues = textValues('attacks');
  const mixes: Array<[string, CapturedExchange[]]> = [
    ['benign', [...valueRequests(benignValues), ...jsonlRequests('benign')]],
    ['attack', [...valueRequests(attackValues), ...jsonlRequests('attacks')]],
  ];
  const requestRows: Array<Record<string, string | number>> = [];
  for (const [mix, exchanges] of mixes) {
    const t = measure(exchanges, 3000, (ex) => analyzeExchange(ex, analysis).findings.length);
    requestRows.push({
      mix,
      requests: exchanges.length,
      'requests/s': t.perSecond,
      'mean µs': t.meanUs,
      'p99 µs': t.p99Us,
      'findings/s': t.findingsPerSecond,
    });
  }

  const ctx: DetectContext = {
    sensitivity: 'default',
    deadline: Number.POSITIVE_INFINITY,
    request: { method: 'GET', host: 'h', path: '/', normalizedPath: '/', headers: [], points: [], anomalies: [] },
  };
  const detectorRows: Array<Record<string, string | number>> = [];
  const detectors: Detector[] = [sqliDetector, xssDetector, rceDetector, codeInjectionDetector];
  for (const [mix, values] of [
    ['benign', benignValues],
    ['attack', attackValues],
  ] as const) {
    const points: Point[] = values.map((value) => ({ location: 'query.q', value, chain: [], kind: 'value' }));
    for (const d of detectors) {
      const t = measure(points, 1200, (p) => d.inspectPoint!(p, ctx).length);
      detectorRows.push({ detector: d.id, mix, 'values/s': t.perSecond, 'mean µs': t.meanUs, 'p99 µs': t.p99Us });
    }
  }
  return [
    {
      name: 'Detection throughput per thread (analyzeExchange)',
      rows: requestRows,
      notes: [
        'One thread, default analysis config (every registered detector, 50 ms budget), decode included.',
        `Benign mix: ${benignValues.length} corpus/benign values (as GET query or JSON body) + corpus/benign/*.jsonl requests; attack mix: corpus/attacks.`,
        'Each mix runs 3 s after a 500-request warm-up; the pool scales this by its worker count.',
      ],
    },
    {
      name: 'Grammar detectors per value (one thread)',
      rows: detectorRows,
      notes: ['inspectPoint on raw values (no decode), 1.2 s per detector and mix.'],
    },
  ];
}
