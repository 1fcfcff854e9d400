import path from 'node:path';

/**
 * The cache directory every command and API uses: the explicit option, else FATEZERO_CACHE_DIR,
 * else `cache/` in the current project. Relative paths resolve against the working directory.
 */
export const resolveCacheDir = (cacheDir?: string | null): string =>
	path.resolve(cacheDir ?? process.env.FATEZERO_CACHE_DIR ?? 'cache');
