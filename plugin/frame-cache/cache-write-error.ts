import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
const NO_PERMISSION = new Set(['EACCES', 'EPERM', 'EROFS']);

const errnoOf = (error: unknown): {code?: string; path?: string} =>
	error && typeof error === 'object' ? (error as {code?: string; path?: string}) : {};

const isInside = (file: string, dir: string): boolean => {
	const relative = path.relative(dir, path.resolve(file));
	return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
};

/**
 * Whether an error thrown while producing an entry is the cache's storage failing (rather than,
 * say, the source file missing): a full disk anywhere, or a system error on a path inside the
 * cache directory.
 */
export const isCacheWriteFailure = (error: unknown, cacheDir: string): boolean => {
	if (error instanceof FateZeroError) return false;
	const {code, path: file} = errnoOf(error);
	if (!code) return false;
	if (DISK_FULL.has(code)) return true;
	return typeof file === 'string' && isInside(file, cacheDir);
};

/** What to do about a failed cache write, by its cause. */
const advice = (code: string | undefined): string => {
	if (code && DISK_FULL.has(code)) {
		return 'The disk (or your quota) is full: free space (e.g. "fatezero cache gc --keep-days 7") or pick another cache directory with --cache-dir or FATEZERO_CACHE_DIR.';
	}
	if (code && NO_PERMISSION.has(code)) {
		return 'The directory is not writable for this user: fix its permissions (chown/chmod) or pick another cache directory with --cache-dir or FATEZERO_CACHE_DIR.';
	}
	return 'Check the disk and the path, or pick another cache directory with --cache-dir or FATEZERO_CACHE_DIR.';
};

/** A CACHE_WRITE_FAILED error naming what was being written, where, the system error and the fix. */
export const cacheWriteError = (error: unknown, what: string, fallbackPath: string): FateZeroError => {
	const {code, path: file} = errnoOf(error);
	const reason = error instanceof Error ? error.message : String(error);
	return new FateZeroError('CACHE_WRITE_FAILED', `Could not write ${what} at ${file ?? fallbackPath}: ${reason}. ${advice(code)}`, {cause: error});
};
