/**
 * The load generator, run in its own process (`node --import tsx bench/load-gen.ts <spec>`)
 * so that it never shares an event loop with the server it measures. Prints one JSON
 * LoadResult on stdout.
 *
 * It is deliberately lean, because on a 2-core machine every cycle it burns is taken from
 * the server under test: raw `net` sockets, each request of the mix serialized once
 * (HTTP/1.1 bytes, or an HPACK block for h2c), minimal response parsing (load-gen-h1.ts,
 * load-gen-h2.ts). Closed loop (as fast as answered) or open loop at a fixed rate, where
 * what falls due while every connection is busy is counted as unsent rather than delayed
 * (load-gen-core.ts). Latency runs from the moment a request was written to its complete
 * response, in fractional ms; the generator's own CPU time is part of the result.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from './load-gen-core.js';
import { runH1 } from './load-gen-h1.js';
import { runH2 } from './load-gen-h2.js';
import { loadMix, type MixRequest } from './load-mix.js';

export type { LoadResult, LoadSpec } from './load-gen-core.js';
export { runH1 } from './load-gen-h1.js';
export { runH2 } from './load-gen-h2.js';

/** Runs one load phase in this process (tests; the bench uses {@link runLoad}). */
export function runInProcess(spec: LoadSpec, mix?: readonly MixRequest[]): Promise<LoadResult> {
  const requests = mix ?? loadMix({ host: spec.host, count: spec.mixCount, seed: spec.seed });
  return spec.protocol === 'h2' ? runH2(spec, requests) : runH1(spec, requests);
}

/** Runs one load phase in a separate node process and returns its result. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const file = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', file, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadResult);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runInProcess(JSON.parse(process.argv[2] ?? '{}') as LoadSpec);
  process.stdout.write(JSON.stringify(result) + '\n');
}
