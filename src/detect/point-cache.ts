import type { Hit } from '../core/model.js';

/*
 * Most of what a detector sees repeats from request to request: User-Agent, Accept,
 * Accept-Language, cookie names, the same search terms. Detectors are pure functions of the
 * point (and the request's host, which the RFI rule reads), so each worker keeps a bounded LRU
 * of per-point results and skips the tokenizers for a value it has already judged.
 */

/** Values longer than this are not cached: they rarely repeat and would bloat the keys. */
export const MAX_CACHED_VALUE_CHARS = 512;

export interface PointCache {
  get(key: string): readonly Hit[] | undefined;
  set(key: string, hits: readonly Hit[]): void;
  readonly size: number;
}

/** A least-recently-used cache of at most `maxEntries` point results (Map keeps insertion order). */
export function createPointCache(maxEntries: number): PointCache {
  const map = new Map<string, readonly Hit[]>();
  return {
    get(key) {
      const hits = map.get(key);
      if (hits !== undefined) {
        map.delete(key);
        map.set(key, hits);
      }
      return hits;
    },
    set(key, hits) {
      if (maxEntries === 0) return;
      map.delete(key);
      map.set(key, hits);
      if (map.size > maxEntries) map.delete(map.keys().next().value as string);
    },
    get size() {
      return map.size;
    },
  };
}
