import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {classifyKindDirItem, entryDir, entryLockPath, kindDir, trashEntryDir, type CacheKind} from './cache-layout.js';
import {nodeCacheFs, type CacheFs} from './cache-fs.js';
import {cacheWriteError, isCacheWriteFailure} from './cache-write-error.js';
import type {EntryManifest} from './entry-manifest.js';
import {ensureWritableCacheDir} from './ensure-writable-cache-dir.js';
import {checkWaitTimeout, KEY_LOCK_DEFAULTS, pause, throwIfAborted, tryAcquireKeyLock, type KeyLockOptions} from './key-lock.js';
import {publishEntry, type EntryComputeFn} from './publish-entry.js';
import {inspectEntry, readEntry} from './read-entry.js';
import {currentEntryUsage, type EntryUsage} from './entry-in-use.js';
import {isPidAlive} from './lock-owner.js';

export type GetOrComputeOptions = {
	cacheDir: string;
	kind: CacheKind;
	key: string;
	/** Produces the entry's files in `tempDir`; runs at most once per key across processes (see key-lock.ts for the limits). */
	compute: EntryComputeFn;
	/** Lock timing, waiting limit, cancellation and a notice when another process holds the key. */
	lock?: KeyLockOptions;
	fs?: CacheFs;
	/** Re-hash a published entry's files before trusting it; a corrupt one is replaced by a fresh computation. Default true. */
	verify?: boolean;
	/** Marked in use for the job this belongs to. Default: the current trackEntryUse() usage, if any. */
	inUse?: EntryUsage | null;
};

export type GetOrComputeStatus =
	/** Published before this call looked. */
	| 'hit'
	/** Computed and published by this call. */
	| 'computed'
	/** Computed by another caller (in this process or another) that this call waited for. */
	| 'joined';

export type GetOrComputeResult = {
	status: GetOrComputeStatus;
	path: string;
	manifest: EntryManifest;
	/** When this call found the published entry corrupt and computed it again: what was wrong (file: hash mismatch). */
	replacedCorrupt?: string[];
};

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
	const hit = await readEntry(cacheDir, kind, key, readOptions(options));
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

const readOptions = (options: GetOrComputeOptions) => ({verify: options.verify, inUse: options.inUse});

/**
 * Holding the key lock: moves an untrusted published entry (incomplete, or corrupt) out of the
 * way, so the publisher does not keep it, and removes temporaries of this key left by killed
 * processes (they can be large, and nothing else would remove them for an hour).
 */
const clearForCompute = async (cacheDir: string, kind: CacheKind, key: string, fs: CacheFs): Promise<void> => {
	const dir = entryDir(cacheDir, kind, key);
	if (await fsp.stat(dir).then(() => true, () => false)) {
		const trash = trashEntryDir(cacheDir, kind, key);
		await fs.rename(dir, trash).catch(() => undefined);
		await fs.rm(trash).catch(() => undefined);
	}
	let names: string[];
	try {
		names = await fsp.readdir(kindDir(cacheDir, kind));
	} catch {
		return;
	}
	for (const name of names) {
		const item = classifyKindDirItem(name);
		if (item.type === 'temp' && item.key === key && item.pid !== process.pid && !isPidAlive(item.pid)) {
			await fs.rm(path.join(kindDir(cacheDir, kind), name)).catch(() => undefined);
		}
	}
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
				const existing = await inspectEntry(cacheDir, kind, key, readOptions(options));
				if ('entry' in existing) return {status: waited ? 'joined' : 'hit', path: existing.entry.path, manifest: existing.entry.manifest};
				await clearForCompute(cacheDir, kind, key, fs);
				const published = await publishEntry({cacheDir, kind, key, write: options.compute, fs});
				// marked while the lock still keeps gc away
				const usage = options.inUse === undefined ? currentEntryUsage() : options.inUse;
				if (usage) await usage.mark(cacheDir, kind, key);
				return {
					status: published.published ? 'computed' : 'joined',
					path: published.path,
					manifest: published.manifest,
					...(existing.corrupt ? {replacedCorrupt: existing.corrupt.map((problem) => `${kind}/${key}/${problem}`)} : {}),
				};
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
		const joined = await readEntry(cacheDir, kind, key, readOptions(options));
		if (joined) return {status: 'joined', path: joined.path, manifest: joined.manifest};
	}
};
