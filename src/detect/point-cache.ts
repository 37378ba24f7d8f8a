import type { Hit } from '../core/model.js';

/*
 * Most of what a detector sees repeats from request to request: User-Agent, Accept,
 * Accept-Language, cookie names, the same search terms. Detectors are pure functions of the
 * point (and the request's host, which the RFI rule reads), so each worker keeps a bounded
 * cache of per-point results and skips the tokenizers for a value it has already judged.
 *
 * Two choices come from CPU profiles of the worker on the load mix:
 * - Not a strict LRU: moving an entry to the back of a Map on every hit (delete + set) made V8
 *   rehash the table over and over (~1.3 µs per lookup). Two generations keep the "recently
 *   used survives" behaviour with plain gets: entries go into `young`; when `young` holds
 *   half the budget it becomes `old` and the previous `old` is dropped whole; a hit in `old`
 *   copies the entry into `young`.
 * - No composite key string: building `host + kind + location + value` for each of ~35 points
 *   per request, then flattening and hashing it, was still ~10 % of the analysis. The maps are
 *   keyed by the value alone (its hash is computed once per string) and the few entries that
 *   share a value are told apart by comparing host, kind and location.
 */

/** Values longer than this are not cached: they rarely repeat and would bloat the cache. */
export const MAX_CACHED_VALUE_CHARS = 512;

/** Where a value sat: detectors read the kind and location, RFI also the host. */
export interface PointSite {
  host: string;
  kind: string;
  location: string;
}

interface Entry extends PointSite {
  hits: readonly Hit[];
}

export interface PointCache {
  get(site: PointSite, value: string): readonly Hit[] | undefined;
  set(site: PointSite, value: string, hits: readonly Hit[]): void;
  /** Entries held (both generations; a promoted entry may count twice). */
  readonly size: number;
}

const find = (entries: Entry[] | undefined, site: PointSite): Entry | undefined => {
  if (entries === undefined) return undefined;
  for (const e of entries) {
    if (e.location === site.location && e.kind === site.kind && e.host === site.host) return e;
  }
  return undefined;
};

/** A cache of at most `maxEntries` point results that keeps the recently used ones. */
export function createPointCache(maxEntries: number): PointCache {
  const generation = Math.max(1, Math.floor(maxEntries / 2));
  let young = new Map<string, Entry[]>();
  let old = new Map<string, Entry[]>();
  let youngSize = 0;
  let oldSize = 0;
  const put = (value: string, entry: Entry): void => {
    const list = young.get(value);
    if (list === undefined) young.set(value, [entry]);
    else list.push(entry);
    if (++youngSize >= generation) {
      old = young;
      oldSize = youngSize;
      young = new Map();
      youngSize = 0;
    }
  };
  return {
    get(site, value) {
      const hit = find(young.get(value), site);
      if (hit !== undefined) return hit.hits;
      const aged = find(old.get(value), site);
      if (aged === undefined) return undefined;
      put(value, aged);
      return aged.hits;
    },
    set(site, value, hits) {
      if (maxEntries === 0) return;
      put(value, { host: site.host, kind: site.kind, location: site.location, hits });
    },
    get size() {
      return youngSize + oldSize;
    },
  };
}
