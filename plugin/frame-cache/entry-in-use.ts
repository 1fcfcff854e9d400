import {AsyncLocalStorage} from 'node:async_hooks';
import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {assertCacheKey, inUseDir, kindDir, uniqueSuffix, type CacheKind} from './cache-layout.js';
import {KEY_LOCK_DEFAULTS} from './key-lock.js';
import {forgetLockOwner, newLockOwner, parseLockOwner, staleReason, startHeartbeat} from './lock-owner.js';

/**
 * "In use" markers: a process that reads an entry over a long time (an edit job reading its
 * inversion, a render reading frames) marks it, and `gcCache` leaves marked entries alone. One
 * file per user, `<kind>/.in-use/<key>.<pid>-<rand>`, with the lock's owner record and heartbeat,
 * so the marker of a crashed process goes stale the same way a lock does.
 */
export type InUseOptions = {staleMs?: number; heartbeatMs?: number};

export type InUseMarker = {path: string; release(): Promise<void>};

export const markEntryInUse = async (cacheDir: string, kind: CacheKind, key: string, options: InUseOptions = {}): Promise<InUseMarker> => {
	const dir = inUseDir(cacheDir, kind);
	const file = path.join(dir, `${assertCacheKey(key)}.${uniqueSuffix()}`);
	const owner = newLockOwner();
	// a releasing process may remove the (then empty) folder between our mkdir and write: retry
	for (let attempt = 0; ; attempt++) {
		await fsp.mkdir(dir, {recursive: true});
		try {
			await fsp.writeFile(file, JSON.stringify(owner), {flag: 'wx'});
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw error;
		}
	}
	const {ino} = await fsp.stat(file);
	const stop = startHeartbeat(file, ino, options.heartbeatMs ?? KEY_LOCK_DEFAULTS.heartbeatMs, () => undefined);
	return {
		path: file,
		release: async () => {
			stop();
			forgetLockOwner(owner);
			await fsp.rm(file, {force: true});
			// leave no empty bookkeeping folder behind (fails harmlessly while others hold markers)
			await fsp.rmdir(dir).catch(() => undefined);
		},
	};
};

/** Runs `fn` with the entry marked in use. */
export const withEntryInUse = async <T>(cacheDir: string, kind: CacheKind, key: string, fn: () => Promise<T>, options: InUseOptions = {}): Promise<T> => {
	const marker = await markEntryInUse(cacheDir, kind, key, options);
	try {
		return await fn();
	} finally {
		await marker.release();
	}
};

/**
 * Keys of `kind` with at least one live marker. Stale markers (their process is gone) are
 * deleted on the way, unless `dryRun`.
 */
export const keysInUse = async (cacheDir: string, kind: CacheKind, options: InUseOptions & {dryRun?: boolean} = {}): Promise<Set<string>> => {
	const staleMs = options.staleMs ?? KEY_LOCK_DEFAULTS.staleMs;
	const dir = inUseDir(cacheDir, kind);
	const keys = new Set<string>();
	let names: string[];
	try {
		names = await fsp.readdir(dir);
	} catch {
		return keys;
	}
	for (const name of names) {
		const key = name.split('.')[0];
		const file = path.join(dir, name);
		try {
			const [stat, text] = await Promise.all([fsp.stat(file), fsp.readFile(file, 'utf8')]);
			if (staleReason(parseLockOwner(text), stat.mtimeMs, staleMs) === null) keys.add(key);
			else if (!options.dryRun) await fsp.rm(file, {force: true});
		} catch {
			// released while we looked
		}
	}
	return keys;
};

/**
 * The entries one job or render uses, marked in use until `release()`: readEntry and getOrCompute
 * mark what they return (before reading it, so gc cannot remove it between the check and the
 * use). Each entry is marked once however often it is read.
 */
export class EntryUsage {
	readonly #markers = new Map<string, Promise<InUseMarker | null>>();
	#released = false;

	constructor(readonly options: InUseOptions = {}) {}

	/**
	 * Marks <kind>/<key> of `cacheDir` in use, if it exists (an absent entry needs no protection,
	 * and a failed job then leaves nothing behind). Best effort: a read-only cache still serves
	 * hits (it cannot be gc'd either).
	 */
	async mark(cacheDir: string, kind: CacheKind, key: string): Promise<void> {
		if (this.#released) return;
		if (!(await fsp.stat(path.join(kindDir(cacheDir, kind), assertCacheKey(key))).then(() => true, () => false))) return;
		const id = `${path.resolve(cacheDir)}\n${kind}\n${key}`;
		if (!this.#markers.has(id)) this.#markers.set(id, markEntryInUse(cacheDir, kind, key, this.options).catch(() => null));
		await this.#markers.get(id);
	}

	/** The entries marked so far, as "kind/key". */
	get marked(): string[] {
		return [...this.#markers.keys()].map((id) => id.split('\n').slice(1).join('/'));
	}

	async release(): Promise<void> {
		this.#released = true;
		const markers = await Promise.all(this.#markers.values());
		this.#markers.clear();
		await Promise.all(markers.map((marker) => marker?.release()));
	}
}

const currentUsage = new AsyncLocalStorage<EntryUsage>();

/** The usage of the job or render this code runs in (see trackEntryUse), or null. */
export const currentEntryUsage = (): EntryUsage | null => currentUsage.getStore() ?? null;

/**
 * Runs `fn` as one job or render: every entry that readEntry / getOrCompute return inside it
 * (however deep the calls) stays marked in use until `fn` ends, so `fatezero cache gc` leaves it
 * alone. Nested calls share the outermost usage.
 */
export const trackEntryUse = async <T>(fn: (usage: EntryUsage) => Promise<T>, options: InUseOptions = {}): Promise<T> => {
	const outer = currentUsage.getStore();
	if (outer) return fn(outer);
	const usage = new EntryUsage(options);
	try {
		return await currentUsage.run(usage, () => fn(usage));
	} finally {
		await usage.release();
	}
};

/** Marks a list of entries in use (a render's clips and sources) until the returned usage is released. */
export const markEntriesInUse = async (cacheDir: string, entries: readonly {kind: CacheKind; key: string}[], options: InUseOptions = {}): Promise<EntryUsage> => {
	const usage = new EntryUsage(options);
	await Promise.all(entries.map(({kind, key}) => usage.mark(cacheDir, kind, key)));
	return usage;
};
