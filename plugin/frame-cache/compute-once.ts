import path from 'node:path';
import {entryLockPath, type CacheKind} from './cache-layout.js';
import {nodeCacheFs, type CacheFs} from './cache-fs.js';
import {cacheWriteError, isCacheWriteFailure} from './cache-write-error.js';
import type {EntryManifest} from './entry-manifest.js';
import {ensureWritableCacheDir} from './ensure-writable-cache-dir.js';
import {checkWaitTimeout, KEY_LOCK_DEFAULTS, pause, throwIfAborted, tryAcquireKeyLock, type KeyLockOptions} from './key-lock.js';
import {publishEntry, type EntryComputeFn} from './publish-entry.js';
import {readEntry} from './read-entry.js';

export type GetOrComputeOptions = {
	cacheDir: string;
	kind: CacheKind;
	key: string;
	/** Produces the entry's files in `tempDir`; runs at most once per key across processes (see key-lock.ts for the limits). */
	compute: EntryComputeFn;
	/** Lock timing, waiting limit, cancellation and a notice when another process holds the key. */
	lock?: KeyLockOptions;
	fs?: CacheFs;
};

export type GetOrComputeStatus =
	/** Published before this call looked. */
	| 'hit'
	/** Computed and published by this call. */
	| 'computed'
	/** Computed by another caller (in this process or another) that this call waited for. */
	| 'joined';

export type GetOrComputeResult = {status: GetOrComputeStatus; path: string; manifest: EntryManifest};

// In-process de-duplication: callers asking for a key already being produced here share that
// promise instead of queueing on the lock file (which the process itself holds).
const inFlight = new Map<string, Promise<GetOrComputeResult>>();

/**
 * The entry <kind>/<key>: read if published, else computed exactly once however many callers in
 * however many processes ask at the same time.
 * 1. A published entry with a complete manifest → 'hit'.
 * 2. Already being produced in this process → wait for it → 'joined'.
 * 3. Otherwise check the cache is writable, then take the key lock. Holding it: publish (compute
 *    into a temporary sibling, atomic rename) → 'computed'. Held by a live process: poll until its
 *    entry appears → 'joined'; if the holder dies without publishing, take over and compute.
 */
export const getOrCompute = async (options: GetOrComputeOptions): Promise<GetOrComputeResult> => {
	const {cacheDir, kind, key} = options;
	const hit = await readEntry(cacheDir, kind, key);
	if (hit) return {status: 'hit', path: hit.path, manifest: hit.manifest};
	const id = `${path.resolve(cacheDir)}\n${kind}\n${key}`;
	const running = inFlight.get(id);
	if (running) {
		const shared = await running;
		return {...shared, status: shared.status === 'hit' ? 'hit' : 'joined'};
	}
	const promise = computeAcrossProcesses(options).finally(() => inFlight.delete(id));
	inFlight.set(id, promise);
	return promise;
};

const computeAcrossProcesses = async (options: GetOrComputeOptions): Promise<GetOrComputeResult> => {
	const {cacheDir, kind, key} = options;
	const lockOptions = options.lock ?? {};
	const fs = options.fs ?? nodeCacheFs;
	const pollMs = lockOptions.pollMs ?? KEY_LOCK_DEFAULTS.pollMs;
	const waitTimeoutMs = lockOptions.waitTimeoutMs ?? KEY_LOCK_DEFAULTS.waitTimeoutMs;
	const lockPath = entryLockPath(cacheDir, kind, key);
	await ensureWritableCacheDir(cacheDir, kind, fs);
	const started = Date.now();
	let waited = false;
	for (;;) {
		throwIfAborted(lockOptions.signal, lockPath);
		let attempt: Awaited<ReturnType<typeof tryAcquireKeyLock>>;
		try {
			attempt = await tryAcquireKeyLock(lockPath, lockOptions);
		} catch (error) {
			throw isCacheWriteFailure(error, cacheDir) ? cacheWriteError(error, `the lock of ${kind}/${key}`, lockPath) : error;
		}
		if (attempt.acquired) {
			try {
				// Published between our first look and the lock (by the holder we waited for, or a racer).
				const existing = await readEntry(cacheDir, kind, key);
				if (existing) return {status: waited ? 'joined' : 'hit', path: existing.path, manifest: existing.manifest};
				const published = await publishEntry({cacheDir, kind, key, write: options.compute, fs});
				return {status: published.published ? 'computed' : 'joined', path: published.path, manifest: published.manifest};
			} finally {
				await attempt.lock.release();
			}
		}
		if (!waited) {
			waited = true;
			lockOptions.onWait?.(attempt.owner);
		}
		checkWaitTimeout(lockPath, attempt.owner, started, waitTimeoutMs);
		await pause(pollMs, lockOptions.signal, lockPath);
		const joined = await readEntry(cacheDir, kind, key);
		if (joined) return {status: 'joined', path: joined.path, manifest: joined.manifest};
	}
};
