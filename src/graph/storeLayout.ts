/** The store's layout version, the first folder under the cache (no effect import: sweep workers read packs). */
export const STORE_LAYOUT = "v1"
