import type { Hit } from '../core/model.js';

/*
 * Most of what a detector sees repeats from request to request: User-Agent, Accept,
 * Accept-Language, cookie names, the same search terms. Detectors are pure functions of the
 * point (and the request's host, which the RFI rule reads), so each worker keeps a bounded
 * cache of per-point results and skips the tokenizers for a value it has already judged.
 *
 * Not a strict LRU: moving an entry to the back of a Map on every hit (delete + set) made V8
 * rehash the table over and over, and a CPU profile of the worker showed the cache's `get`
 * as the most expensive function of the whole analysis (≈ 1.3 µs per lookup on the load
 * mix). Two generations give the same "recently used survives" behaviour with plain gets:
 * entries go into `young`; when `young` holds half the budget it becomes `old` and the
 * previous `old` is dropped whole; a hit in `old` copies the entry into `young`.
 */

/** Values longer than this are not cached: they rarely repeat and would bloat the keys. */
export const MAX_CACHED_VALUE_CHARS = 512;

export interface PointCache {
  get(key: string): readonly Hit[] | undefined;
  set(key: string, hits: readonly Hit[]): void;
  /** Entries held (both generations; a promoted entry may count twice). */
  readonly size: number;
}

/** A cache of at most `maxEntries` point results that keeps the recently used ones. */
export function createPointCache(maxEntries: number): PointCache {
  const generation = Math.max(1, Math.floor(maxEntries / 2));
  let young = new Map<string, readonly Hit[]>();
  let old = new Map<string, readonly Hit[]>();
  const put = (key: string, hits: readonly Hit[]): void => {
    young.set(key, hits);
    if (young.size >= generation) {
      old = young;
      young = new Map();
    }
  };
  return {
    get(key) {
      const hits = young.get(key);
      if (hits !== undefined) return hits;
      const aged = old.get(key);
      if (aged !== undefined) put(key, aged);
      return aged;
    },
    set(key, hits) {
      if (maxEntries === 0) return;
      put(key, hits);
    },
    get size() {
      return young.size + old.size;
    },
  };
}
