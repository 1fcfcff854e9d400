import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {FateZeroError} from '../errors/fatezero-error.js';
import {LOCK_SUFFIX, TAKEOVER_PREFIX, TEMP_PREFIX, uniqueSuffix} from './cache-layout.js';
import {forgetLockOwner, newLockOwner, parseLockOwner, staleReason, startHeartbeat, type LockOwner} from './lock-owner.js';

/**
 * Cross-process lock of one cache key: a file `<kind>/<key>.lock` created exclusively with its
 * owner record already in it (createLockFile), holding {pid, host, startedAt, token}. The holder touches it every `heartbeatMs`; a lock whose
 * holder is gone (dead pid on this host) or silent for `staleMs` is taken over (removeStaleLock,
 * under a takeover guard, then a fresh O_EXCL create that any waiter may win).
 *
 * The lock only saves duplicate work. Correctness never depends on it: entries appear by an
 * atomic rename of a complete directory, and a second publisher of the same key discards its own
 * copy. So what a lock file cannot exclude (a holder frozen past `staleMs` that wakes up, a taker
 * dying inside its takeover guard while another clears that guard) costs at most one extra
 * computation.
 */
export const KEY_LOCK_DEFAULTS = {
	staleMs: 30_000,
	heartbeatMs: 5_000,
	pollMs: 100,
	/** null: wait as long as the holder keeps its lock alive. */
	waitTimeoutMs: null as number | null,
};

export type KeyLockOptions = {
	staleMs?: number;
	heartbeatMs?: number;
	pollMs?: number;
	waitTimeoutMs?: number | null;
	signal?: AbortSignal;
	/** Called once when the lock is found held by another process and this one starts waiting. */
	onWait?: (owner: LockOwner | null) => void;
};

export type KeyLock = {
	path: string;
	owner: LockOwner;
	/** True once the lock file was removed or replaced by someone else while we held it. */
	readonly lost: boolean;
	release(): Promise<void>;
};

export type LockState =
	| {state: 'free'}
	| {state: 'held'; owner: LockOwner | null}
	| {state: 'stale'; owner: LockOwner | null; reason: string};

const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | null)?.code;

/** Reads a lock file and judges it: free (absent), held, or stale (with the reason). */
export const inspectLock = async (lockPath: string, options: {staleMs?: number} = {}): Promise<LockState> => {
	const staleMs = options.staleMs ?? KEY_LOCK_DEFAULTS.staleMs;
	let text: string;
	let stat: Awaited<ReturnType<typeof fsp.stat>>;
	try {
		stat = await fsp.stat(lockPath);
		text = await fsp.readFile(lockPath, 'utf8');
	} catch (error) {
		if (errno(error) === 'ENOENT') return {state: 'free'};
		throw error;
	}
	const owner = parseLockOwner(text);
	const reason = staleReason(owner, stat.mtimeMs, staleMs);
	return reason ? {state: 'stale', owner, reason} : {state: 'held', owner};
};

// A takeover guard is held for the few milliseconds of one inspect-and-unlink; one older than
// this was left by a process that died in between.
const GUARD_STALE_MS = 5_000;

export const takeoverGuardPath = (lockPath: string): string => path.join(path.dirname(lockPath), `${TAKEOVER_PREFIX}${path.basename(lockPath)}`);

/**
 * Removes the lock if it is (still) stale, safely against other processes doing the same: only
 * the holder of the takeover guard (a second O_EXCL file) may remove a stale lock, and it judges
 * the lock again while holding the guard. Without the guard, two takers who both judged the old
 * lock stale could each remove something: the second one the fresh lock the first just created.
 * Returns whether this call removed the lock; false also when another taker holds the guard.
 */
export const removeStaleLock = async (lockPath: string, options: {staleMs?: number} = {}): Promise<boolean> => {
	const guard = takeoverGuardPath(lockPath);
	const owner = newLockOwner();
	try {
		await fsp.writeFile(guard, JSON.stringify(owner), {flag: 'wx'});
	} catch (error) {
		forgetLockOwner(owner);
		if (errno(error) !== 'EEXIST') throw error;
		// Another taker is at it. Clear its guard only if that taker died mid-takeover.
		const state = await inspectLock(guard, {staleMs: GUARD_STALE_MS});
		if (state.state === 'stale') await fsp.rm(guard, {force: true});
		return false;
	}
	try {
		const state = await inspectLock(lockPath, options);
		if (state.state !== 'stale') return false;
		await fsp.rm(lockPath, {force: true});
		return true;
	} finally {
		forgetLockOwner(owner);
		await fsp.rm(guard, {force: true});
	}
};

// Where a hard link cannot be made (some network and FAT file systems), the lock is created with
// O_EXCL and written after; a process killed between the two leaves an empty lock that only its
// age frees.
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * The owner record is written to a temporary file first, named like an entry's temporary
 * (`.tmp-<key>-<pid>-<rand>`, so a killed process's one is cleaned as those are), then hard-linked
 * to the lock's name: link fails with EEXIST when the lock exists, as O_EXCL does, and a lock
 * never exists without its owner. (Created with O_EXCL and written after, a SIGKILL in between
 * left an empty lock naming no process, which held the key for `staleMs`: seen in CI under load.)
 */
const createLockFile = async (lockPath: string, owner: LockOwner): Promise<number | 'exists'> => {
	const pending = path.join(path.dirname(lockPath), `${TEMP_PREFIX}${path.basename(lockPath, LOCK_SUFFIX)}-${uniqueSuffix()}`);
	try {
		await fsp.writeFile(pending, JSON.stringify(owner), {flag: 'wx'});
	} catch (error) {
		if (errno(error) !== 'ENOENT') throw error;
		await fsp.mkdir(path.dirname(lockPath), {recursive: true});
		return createLockFile(lockPath, owner);
	}
	try {
		// the lock's inode: the heartbeat checks the lock is still this file
		const {ino} = await fsp.stat(pending);
		await fsp.link(pending, lockPath);
		return ino;
	} catch (error) {
		if (errno(error) === 'EEXIST') return 'exists';
		if (LINK_UNSUPPORTED.has(errno(error) ?? '')) return createLockFileExclusive(lockPath, owner);
		throw error;
	} finally {
		await fsp.rm(pending, {force: true});
	}
};

const createLockFileExclusive = async (lockPath: string, owner: LockOwner): Promise<number | 'exists'> => {
	let handle: fsp.FileHandle;
	try {
		handle = await fsp.open(lockPath, 'wx');
	} catch (error) {
		if (errno(error) === 'EEXIST') return 'exists';
		throw error;
	}
	try {
		await handle.writeFile(JSON.stringify(owner));
		return (await handle.stat()).ino;
	} catch (error) {
		await handle.close().catch(() => undefined);
		await fsp.rm(lockPath, {force: true});
		throw error;
	} finally {
		await handle.close().catch(() => undefined);
	}
};

const makeLock = (lockPath: string, owner: LockOwner, ino: number, heartbeatMs: number): KeyLock => {
	let lost = false;
	let released = false;
	const stopHeartbeat = startHeartbeat(lockPath, ino, heartbeatMs, () => {
		lost = true;
	});
	return {
		path: lockPath,
		owner,
		get lost() {
			return lost;
		},
		release: async () => {
			if (released) return;
			released = true;
			stopHeartbeat();
			forgetLockOwner(owner);
			// Remove only our own file: after a takeover the lock belongs to someone else.
			try {
				const [stat, text] = await Promise.all([fsp.stat(lockPath), fsp.readFile(lockPath, 'utf8')]);
				if (stat.ino === ino && parseLockOwner(text)?.token === owner.token) await fsp.rm(lockPath, {force: true});
			} catch (error) {
				if (errno(error) !== 'ENOENT') throw error;
			}
		},
	};
};

/**
 * One attempt: creates the lock, or takes it over when stale. Returns the lock, or the state of
 * the live lock another process holds.
 */
export const tryAcquireKeyLock = async (
	lockPath: string,
	options: KeyLockOptions = {},
): Promise<{acquired: true; lock: KeyLock} | {acquired: false; owner: LockOwner | null}> => {
	const heartbeatMs = options.heartbeatMs ?? KEY_LOCK_DEFAULTS.heartbeatMs;
	let owner: LockOwner | null = null;
	// A few rounds: after removing a stale lock another process may win the create; then it is held.
	for (let round = 0; round < 4; round++) {
		const candidate = newLockOwner();
		const created = await createLockFile(lockPath, candidate);
		if (created !== 'exists') return {acquired: true, lock: makeLock(lockPath, candidate, created, heartbeatMs)};
		forgetLockOwner(candidate);
		const state = await inspectLock(lockPath, options);
		if (state.state === 'held') return {acquired: false, owner: state.owner};
		if (state.state === 'stale') {
			owner = state.owner;
			await removeStaleLock(lockPath, options);
		}
	}
	return {acquired: false, owner};
};

const describeOwner = (owner: LockOwner | null): string =>
	owner ? `process ${owner.pid} on ${owner.host} since ${owner.startedAt}` : 'a process that has not written its name into the lock yet';

/** Waits for the lock (polling every `pollMs`) until acquired, `waitTimeoutMs` passes, or `signal` aborts. */
export const acquireKeyLock = async (lockPath: string, options: KeyLockOptions = {}): Promise<KeyLock> => {
	const pollMs = options.pollMs ?? KEY_LOCK_DEFAULTS.pollMs;
	const waitTimeoutMs = options.waitTimeoutMs ?? KEY_LOCK_DEFAULTS.waitTimeoutMs;
	const started = Date.now();
	let notified = false;
	for (;;) {
		throwIfAborted(options.signal, lockPath);
		const attempt = await tryAcquireKeyLock(lockPath, options);
		if (attempt.acquired) return attempt.lock;
		if (!notified) {
			notified = true;
			options.onWait?.(attempt.owner);
		}
		checkWaitTimeout(lockPath, attempt.owner, started, waitTimeoutMs);
		await pause(pollMs, options.signal, lockPath);
	}
};

/** Runs `fn` while holding the key lock; the lock is released however `fn` ends. */
export const withKeyLock = async <T>(lockPath: string, fn: (lock: KeyLock) => Promise<T>, options: KeyLockOptions = {}): Promise<T> => {
	const lock = await acquireKeyLock(lockPath, options);
	try {
		return await fn(lock);
	} finally {
		await lock.release();
	}
};

export const throwIfAborted = (signal: AbortSignal | undefined, lockPath: string): void => {
	if (signal?.aborted) throw new FateZeroError('ABORTED', `Stopped waiting for the cache lock ${lockPath}: the caller cancelled.`, {cause: signal.reason});
};

export const checkWaitTimeout = (lockPath: string, owner: LockOwner | null, started: number, waitTimeoutMs: number | null): void => {
	if (waitTimeoutMs === null || Date.now() - started < waitTimeoutMs) return;
	throw new FateZeroError(
		'CACHE_LOCKED',
		`Gave up after ${(waitTimeoutMs / 1000).toFixed(1)} s waiting for the cache lock ${lockPath}, held by ${describeOwner(owner)}. Wait for that process to finish; if it is gone, "fatezero cache gc" removes stale locks (or delete the lock file).`,
	);
};

/** Sleeps about `ms` (with jitter, so waiters do not poll in lockstep); abortable. */
export const pause = async (ms: number, signal: AbortSignal | undefined, lockPath: string): Promise<void> => {
	try {
		await sleep(ms * (0.75 + Math.random() * 0.5), undefined, {signal});
	} catch {
		throwIfAborted(signal, lockPath);
	}
};
