/**
 * The unsubscribe endpoint's signing keys, current first (the previous one too, while links it
 * signed are still in inboxes). A warm function keeps them between requests; when a token names a
 * key it does not hold (the key rotated since they were loaded), it reloads them, at most once per
 * `minRefreshIntervalMs` (the first load does not count: a rotation may come right after it) so
 * forged tokens cannot make it hammer Secrets Manager.
 */

export interface UnsubscribeKeys {
  /** The keys held now, current first (loaded on first use). */
  get(): Promise<readonly string[]>;
  /** Reloads the keys unless a reload was done less than the minimum interval ago; the keys held after. */
  refresh(): Promise<{ keys: readonly string[]; refreshed: boolean }>;
}

/** Fixed keys (tests, the local demo): nothing to reload. */
export function staticKeys(keys: string | readonly string[]): UnsubscribeKeys {
  const list = typeof keys === 'string' ? [keys] : [...keys];
  return { get: async () => list, refresh: async () => ({ keys: list, refreshed: false }) };
}

export interface CachedKeysOptions {
  /** The clock, epoch ms. */
  now: () => number;
  /** Least time between two reloads (default 60 s). */
  minRefreshIntervalMs?: number;
}

/** Keys read with `load` on first use and kept; reloaded on demand (refresh), never more often than the interval. */
export function cachedKeys(load: () => Promise<readonly string[]>, options: CachedKeysOptions): UnsubscribeKeys {
  const interval = options.minRefreshIntervalMs ?? 60_000;
  let keys: Promise<readonly string[]> | undefined;
  let refreshedAt = Number.NEGATIVE_INFINITY;
  const reload = (): Promise<readonly string[]> => {
    const loading = load();
    keys = loading;
    // A failed read is retried by the next request, not cached.
    loading.catch(() => {
      if (keys === loading) keys = undefined;
    });
    return loading;
  };
  return {
    get: () => keys ?? reload(),
    async refresh() {
      if (keys !== undefined && options.now() - refreshedAt < interval) return { keys: await keys, refreshed: false };
      refreshedAt = options.now();
      return { keys: await reload(), refreshed: true };
    },
  };
}
