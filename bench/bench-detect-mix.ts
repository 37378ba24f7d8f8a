/**
 * Where a request's analysis time goes on the load benchmark's traffic: the requests of
 * `loadMix` (the mix `bench load` replays against shadowtap and nginx + ModSecurity) decoded once,
 * then every point detector timed over each request's points, and whole requests through
 * `analyzeExchange`. One thread; the pool scales this by its worker count.
 */
import { performance } from 'node:perf_hooks';
import { resolveConfig } from '../src/config/config.js';
import type { CapturedExchange, DecodedRequest, DetectContext } from '../src/core/model.js';
import { decodeRequest } from '../src/decode/decode-request.js';
import { analyzeExchange } from '../src/detect/analyze-exchange.js';
import { DETECTORS } from '../src/detect/detector-registry.js';
import { capturedExchange } from '../test/helpers/exchange.js';
import type { BenchReport } from './bench-types.js';
import { loadMix } from './load-mix.js';

const REQUESTS = 2000;
const ROUNDS = 5;

function toExchange(r: ReturnType<typeof loadMix>[number], i: number): CapturedExchange {
  return capturedExchange({
    id: String(i),
    clientIp: '127.0.0.1',
    method: r.method,
    target: r.path,
    headers: Object.entries(r.headers),
    body: r.body ?? '',
  });
}

/** Best of `ROUNDS` runs of `fn`, in milliseconds (the machine is shared: the minimum is the cost). */
function best(fn: () => void): number {
  let min = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

export default async function benchDetectMix(): Promise<BenchReport[]> {
  const analysis = resolveConfig({}).analysis;
  const exchanges = loadMix({ host: 'shop.example.com', count: REQUESTS, seed: 7 }).map(toExchange);
  const decoded: DecodedRequest[] = exchanges.map((e) => decodeRequest(e, analysis.limits, Number.POSITIVE_INFINITY));
  const points = decoded.reduce((n, r) => n + r.points.length, 0);
  const perRequest = (ms: number): number => Math.round((ms * 1000 * 10) / exchanges.length) / 10;

  const rows: Array<Record<string, string | number>> = [];
  rows.push({
    stage: 'decode',
    'µs/request': perRequest(
      best(() => {
        for (const e of exchanges) decodeRequest(e, analysis.limits, Number.POSITIVE_INFINITY);
      }),
    ),
  });
  for (const d of DETECTORS) {
    if (!d.inspectPoint || analysis.disabledDetectors.includes(d.id)) continue;
    const ms = best(() => {
      for (const request of decoded) {
        const ctx: DetectContext = { sensitivity: analysis.sensitivity, request, deadline: Number.POSITIVE_INFINITY };
        for (const p of request.points) d.inspectPoint!(p, ctx);
      }
    });
    rows.push({ stage: `detector ${d.id}`, 'µs/request': perRequest(ms) });
  }
  rows.push({
    stage: 'analyzeExchange (all)',
    'µs/request': perRequest(
      best(() => {
        for (const e of exchanges) analyzeExchange(e, analysis);
      }),
    ),
  });
  return [
    {
      name: 'Analysis cost per request on the load mix (one thread)',
      rows,
      notes: [
        `${exchanges.length} loadMix requests (seed 7), ${points} points; best of ${ROUNDS} rounds per stage.`,
        'Detector rows time inspectPoint over each decoded request’s points; default sensitivity.',
      ],
    },
  ];
}
