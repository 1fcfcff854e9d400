import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';
import {kindDir, uniqueSuffix, WRITE_PROBE_PREFIX, type CacheKind} from './cache-layout.js';
import {nodeCacheFs, type CacheFs} from './cache-fs.js';

/**
 * Creates <cacheDir>/<kind> and proves it writable by writing and deleting a probe file, so a
 * read-only or foreign-owned cache fails before minutes of inference, not after. A real write is
 * the only honest test: access(W_OK) says yes to root and knows nothing of read-only mounts or
 * full disks.
 */
export const ensureWritableCacheDir = async (cacheDir: string, kind: CacheKind, fs: CacheFs = nodeCacheFs): Promise<void> => {
	const dir = kindDir(cacheDir, kind);
	const probe = path.join(dir, `${WRITE_PROBE_PREFIX}${uniqueSuffix()}`);
	try {
		await fs.mkdir(dir);
		await fs.writeFile(probe, 'probe');
		await fs.rm(probe);
	} catch (error) {
		await fs.rm(probe).catch(() => undefined);
		const {code} = error as NodeJS.ErrnoException;
		throw new FateZeroError(
			'CACHE_WRITE_FAILED',
			`The cache directory ${cacheDir} is not writable (${code ?? (error as Error).message} at ${(error as NodeJS.ErrnoException).path ?? dir}). Make it writable for this user (chown/chmod, or remount read-write), or pick another directory with --cache-dir or FATEZERO_CACHE_DIR.`,
			{cause: error},
		);
	}
};
