import {statSync} from 'node:fs';
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
	assertCacheDirUsable(cacheDir);
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

/**
 * The cache directory may be missing (it is created on the first write) but must not be a file
 * or anything else: every later step would fail with a bare ENOTDIR. Names where the path came
 * from, as the user set it.
 */
export const assertCacheDirUsable = (cacheDir: string, setBy = '--cache-dir / FATEZERO_CACHE_DIR / fatezero.config.json cacheDir'): string => {
	let stats;
	try {
		stats = statSync(cacheDir);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') return cacheDir;
		if (code === 'ENOTDIR') {
			throw new FateZeroError('CACHE_WRITE_FAILED', `The cache directory ${cacheDir} is not writable (ENOTDIR: a part of its path is a file, not a folder). Pick another directory with --cache-dir or FATEZERO_CACHE_DIR.`, {cause: error});
		}
		throw new FateZeroError('CACHE_WRITE_FAILED', `The cache directory ${cacheDir} cannot be read (${code}). Make it accessible for this user, or pick another one with ${setBy}.`, {cause: error});
	}
	if (!stats.isDirectory()) {
		throw new FateZeroError('INVALID_OPTION', `The cache directory ${cacheDir} is a file, not a folder. Point ${setBy} at a folder (it is created if missing), or move the file away.`);
	}
	return cacheDir;
};
