import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { AnalysisConfig } from '../config/config.js';
import { ERR_CLOSE_TIMEOUT } from '../core/errors.js';
import type { AnalysisResult } from '../core/model.js';
import type { DetectWorkerData } from './detect-worker.js';

/** The worker pool that runs decode + detect off the event loop. */
export interface DetectPool {
  readonly threads: number;
  /** Batches that can be in flight at once without piscina queueing them. */
  readonly capacity: number;
  run(batch: ArrayBuffer): Promise<AnalysisResult[]>;
  utilization(): number;
  close(timeoutMs: number): Promise<void>;
}

// Under tsx (tests, dev) the worker is the .ts source; built, it is the .js next to us.
const workerExt = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const workerFile = new URL(`./detect-worker${workerExt}`, import.meta.url);

/**
 * Worker threads when admission.workers is 0: one core left to the listener, except on
 * machines with one or two cores. There, once the listener parses HTTP/1.1 itself, it needs
 * about half a core at the pool's capacity, and a single worker left the rest of that core
 * idle: on this project's 2-core benchmark machine two workers analysed 12,212 req/s in full
 * against 8,986 with one (docs/benchmark.md).
 */
export function defaultWorkerThreads(cores: number): number {
  return cores <= 2 ? Math.max(1, cores) : cores - 1;
}

export function createDetectPool(opts: {
  workers: number;
  analysis: AnalysisConfig;
  nice?: number;
  /** Young-generation cap of each worker's heap, MB. */
  youngGenerationMb?: number;
}): DetectPool {
  const threads = opts.workers > 0 ? opts.workers : defaultWorkerThreads(availableParallelism());
  const workerData: DetectWorkerData = { analysis: opts.analysis, nice: opts.nice ?? 0 };
  const piscina = new Piscina({
    filename: workerFile.href,
    minThreads: threads,
    maxThreads: threads,
    // Two batches per thread, both posted to the worker at once: the second waits in the
    // worker's own message queue, so the worker starts it the moment the first is done
    // instead of waiting for the listener's event loop to hand it over (with one task per
    // worker, the worker idled while the listener was busy answering requests). Admission
    // never hands over more, so piscina's own queue stays empty.
    concurrentTasksPerWorker: 2,
    maxQueue: threads * 2,
    workerData,
    // Workers wait for tasks on their event loop rather than spinning on Atomics.wait:
    // with batching, the per-task wake-up cost is amortised over a whole batch.
    atomics: 'disabled',
    // V8 grows each isolate's young generation up to 48 MB under allocation pressure; with a
    // batch of 64 exchanges decoded at a time most of it is garbage within the batch, so a
    // smaller one costs no throughput and keeps RSS down (admission.workerYoungGenerationMb).
    resourceLimits: { maxYoungGenerationSizeMb: opts.youngGenerationMb ?? 16 },
  });
  return {
    threads,
    capacity: threads * 2,
    run: (batch) => piscina.run(batch, { transferList: [batch] }) as Promise<AnalysisResult[]>,
    utilization: () => piscina.utilization,
    async close(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(ERR_CLOSE_TIMEOUT('worker pool', timeoutMs)), timeoutMs);
      });
      try {
        await Promise.race([piscina.close(), timeout]);
      } catch (err) {
        await piscina.close({ force: true });
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
