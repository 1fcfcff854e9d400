import {randomBytes} from 'node:crypto';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';

/**
 * Where everything lives inside a cache directory (design §5). The directory holds data only:
 *
 *   index/<descriptorKey>.json      the edit key a descriptor resolves to now
 *   <kind>/<key>/                    a published entry: its files + manifest.json (+ .last-used)
 *   <kind>/<key>.lock                the cross-process lock of a key being computed
 *   <kind>/.takeover-<key>.lock      held for an instant by the process removing a stale lock
 *   <kind>/.tmp-<key>-<pid>-<rand>/  an entry being written (renamed to <key> when complete)
 *   <kind>/.trash-<key>-<pid>-<rand> an entry being removed (renamed away first, then deleted)
 *   <kind>/.in-use/<key>.<pid>-<rand>  a process reading the entry (gc leaves it alone)
 *   <kind>/.write-probe-<pid>-<rand> the writability check before a computation (deleted at once)
 *
 * Dot-prefixed names are never entries, so a listing of <kind>/ shows only published ones.
 */
export const CACHE_KINDS = ['sources', 'inversions', 'clips'] as const;
export type CacheKind = (typeof CACHE_KINDS)[number];

export const MANIFEST_FILE = 'manifest.json';
/** Touched whenever Node reads the entry; its mtime is the entry's last use (atime is unreliable). */
export const LAST_USED_FILE = '.last-used';
export const INDEX_DIR = 'index';
export const IN_USE_DIR = '.in-use';
export const LOCK_SUFFIX = '.lock';
export const TEMP_PREFIX = '.tmp-';
export const TRASH_PREFIX = '.trash-';
export const TAKEOVER_PREFIX = '.takeover-';
export const WRITE_PROBE_PREFIX = '.write-probe-';

// Keys become file names: lowercase letters, digits, '-' and '_' only, so no key can climb out
// of its folder or collide with the dot-prefixed bookkeeping names.
const KEY_PATTERN = /^[0-9a-z][0-9a-z_-]{0,127}$/;

export const isCacheKey = (key: string): boolean => KEY_PATTERN.test(key);

export const assertCacheKey = (key: string, what = 'cache key'): string => {
	if (!isCacheKey(key)) {
		throw new FateZeroError('INVALID_INPUT', `${what} ${JSON.stringify(key)} is not a valid cache key. Keys are lowercase hex digests (letters, digits, '-', '_'; at most 128 characters).`);
	}
	return key;
};

export const assertCacheKind = (kind: string): CacheKind => {
	if (!(CACHE_KINDS as readonly string[]).includes(kind)) {
		throw new FateZeroError('INVALID_INPUT', `Cache kind ${JSON.stringify(kind)} is not one of ${CACHE_KINDS.join(', ')}.`);
	}
	return kind as CacheKind;
};

/** A per-process, per-call unique suffix for temporary names. */
export const uniqueSuffix = (): string => `${process.pid}-${randomBytes(4).toString('hex')}`;

export const kindDir = (cacheDir: string, kind: CacheKind): string => path.join(cacheDir, assertCacheKind(kind));
export const entryDir = (cacheDir: string, kind: CacheKind, key: string): string => path.join(kindDir(cacheDir, kind), assertCacheKey(key));
export const manifestPath = (cacheDir: string, kind: CacheKind, key: string): string => path.join(entryDir(cacheDir, kind, key), MANIFEST_FILE);
export const entryLockPath = (cacheDir: string, kind: CacheKind, key: string): string => `${entryDir(cacheDir, kind, key)}${LOCK_SUFFIX}`;
export const tempEntryDir = (cacheDir: string, kind: CacheKind, key: string): string =>
	path.join(kindDir(cacheDir, kind), `${TEMP_PREFIX}${assertCacheKey(key)}-${uniqueSuffix()}`);
export const trashEntryDir = (cacheDir: string, kind: CacheKind, key: string): string =>
	path.join(kindDir(cacheDir, kind), `${TRASH_PREFIX}${assertCacheKey(key)}-${uniqueSuffix()}`);
export const inUseDir = (cacheDir: string, kind: CacheKind): string => path.join(kindDir(cacheDir, kind), IN_USE_DIR);
export const indexDir = (cacheDir: string): string => path.join(cacheDir, INDEX_DIR);
export const indexPath = (cacheDir: string, descriptorKey: string): string => path.join(indexDir(cacheDir), `${assertCacheKey(descriptorKey, 'descriptor key')}.json`);

export type KindDirItem =
	| {type: 'entry'; key: string}
	| {type: 'lock'; key: string}
	| {type: 'temp'; key: string; pid: number}
	| {type: 'trash'}
	| {type: 'takeover-guard'}
	| {type: 'write-probe'}
	| {type: 'other'};

/** What a name inside <kind>/ is, by the naming rules above. */
export const classifyKindDirItem = (name: string): KindDirItem => {
	if (isCacheKey(name)) return {type: 'entry', key: name};
	if (name.endsWith(LOCK_SUFFIX) && isCacheKey(name.slice(0, -LOCK_SUFFIX.length))) return {type: 'lock', key: name.slice(0, -LOCK_SUFFIX.length)};
	if (name.startsWith(TEMP_PREFIX)) {
		const match = /^(.+)-(\d+)-[0-9a-f]+$/.exec(name.slice(TEMP_PREFIX.length));
		if (match && isCacheKey(match[1])) return {type: 'temp', key: match[1], pid: Number(match[2])};
	}
	if (name.startsWith(TRASH_PREFIX)) return {type: 'trash'};
	if (name.startsWith(TAKEOVER_PREFIX)) return {type: 'takeover-guard'};
	if (name.startsWith(WRITE_PROBE_PREFIX)) return {type: 'write-probe'};
	return {type: 'other'};
};
