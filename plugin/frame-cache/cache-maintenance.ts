import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {
	CACHE_KINDS,
	classifyKindDirItem,
	entryDir,
	entryLockPath,
	indexDir,
	isCacheKey,
	kindDir,
	LAST_USED_FILE,
	trashEntryDir,
	type CacheKind,
} from './cache-layout.js';
import {keysInUse} from './entry-in-use.js';
import {inspectLock, KEY_LOCK_DEFAULTS, removeStaleLock, tryAcquireKeyLock} from './key-lock.js';
import {checkEntry, verifyEntry, type EntryVerification} from './read-entry.js';

/** The defaults of `fatezero cache gc`. */
export const GC_DEFAULTS = {
	keepDays: 30,
	/** Temporary directories of crashed writers are removed once this old (and their key is not locked). */
	orphanAgeMs: 60 * 60 * 1000,
};

export type CacheEntryInfo = {
	kind: CacheKind;
	key: string;
	path: string;
	/** Passes the cheap check (complete manifest, files present with their sizes). */
	valid: boolean;
	problem: string | null;
	frameCount: number | null;
	fps: number | null;
	width: number | null;
	height: number | null;
	/** Bytes on disk under the entry directory. */
	bytes: number;
	createdAt: string | null;
	/** The latest of: creation, the last Node read, the last index rewrite pointing at it. */
	lastUsedAt: string;
	/** A live process holds its key lock. */
	locked: boolean;
	/** A live process marked it in use. */
	inUse: boolean;
	/** An edited clip made with the generated random-weight model (its frames are noise). */
	generatedModel: boolean;
};

const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | null)?.code;

const readdirOrEmpty = async (dir: string): Promise<string[]> => {
	try {
		return (await fsp.readdir(dir)).sort();
	} catch (error) {
		if (errno(error) === 'ENOENT') return [];
		throw error;
	}
};

const mtimeMs = async (file: string): Promise<number | null> => {
	try {
		return (await fsp.stat(file)).mtimeMs;
	} catch {
		return null;
	}
};

const diskBytes = async (target: string): Promise<number> => {
	let stat: Awaited<ReturnType<typeof fsp.lstat>>;
	try {
		stat = await fsp.lstat(target);
	} catch {
		return 0;
	}
	if (!stat.isDirectory()) return stat.size;
	let total = 0;
	for (const name of await readdirOrEmpty(target)) total += await diskBytes(path.join(target, name));
	return total;
};

export type IndexFileRefs = {file: string; mtimeMs: number; refs: {kind: CacheKind; key: string}[]};

/**
 * The records of an index folder (the store's index/, or a public dir's fatezero/index/: both
 * name editKey, inversionKey and sourceKey) with the entries each points at. A damaged record
 * points at nothing.
 */
export const readIndexFolder = async (dir: string): Promise<IndexFileRefs[]> => {
	const files: IndexFileRefs[] = [];
	for (const name of await readdirOrEmpty(dir)) {
		if (name.startsWith('.') || !name.endsWith('.json')) continue;
		const file = path.join(dir, name);
		const time = await mtimeMs(file);
		if (time === null) continue;
		const refs: {kind: CacheKind; key: string}[] = [];
		try {
			const record = JSON.parse(await fsp.readFile(file, 'utf8')) as {editKey?: unknown; inversionKey?: unknown; sourceKey?: unknown};
			const named: [CacheKind, unknown][] = [
				['clips', record.editKey],
				['inversions', record.inversionKey],
				['sources', record.sourceKey],
			];
			for (const [kind, key] of named) if (typeof key === 'string' && isCacheKey(key)) refs.push({kind, key});
		} catch {
			// a damaged index file references nothing
		}
		files.push({file, mtimeMs: time, refs});
	}
	return files;
};

/**
 * Last use of entries through the index: a prerender rewrites `index/<descriptorKey>.json` every
 * run, so its mtime says the clip, its inversion and its source were wanted then, even when the
 * frames themselves were served to the browser without Node touching them.
 */
const indexUse = async (cacheDir: string): Promise<{use: Map<string, number>; files: IndexFileRefs[]}> => {
	const use = new Map<string, number>();
	const files = await readIndexFolder(indexDir(cacheDir));
	for (const {mtimeMs: time, refs} of files) {
		for (const {kind, key} of refs) use.set(`${kind}/${key}`, Math.max(use.get(`${kind}/${key}`) ?? 0, time));
	}
	return {use, files};
};

const describeEntry = async (
	cacheDir: string,
	kind: CacheKind,
	key: string,
	index: Map<string, number>,
	inUse: Set<string>,
	staleMs: number,
): Promise<CacheEntryInfo> => {
	const dir = entryDir(cacheDir, kind, key);
	const checked = await checkEntry(dir, kind, key);
	const manifest = 'manifest' in checked ? checked.manifest : null;
	const createdMs = manifest ? Date.parse(manifest.createdAt) : ((await mtimeMs(dir)) ?? 0);
	const lastUsedMs = Math.max(createdMs, (await mtimeMs(path.join(dir, LAST_USED_FILE))) ?? 0, index.get(`${kind}/${key}`) ?? 0);
	const lock = await inspectLock(entryLockPath(cacheDir, kind, key), {staleMs});
	return {
		kind,
		key,
		path: dir,
		valid: manifest !== null,
		problem: 'problem' in checked ? checked.problem : null,
		frameCount: manifest?.frameCount ?? null,
		fps: manifest?.fps ?? null,
		width: manifest?.width ?? null,
		height: manifest?.height ?? null,
		bytes: await diskBytes(dir),
		createdAt: manifest?.createdAt ?? null,
		lastUsedAt: new Date(lastUsedMs).toISOString(),
		locked: lock.state === 'held',
		inUse: inUse.has(key),
		generatedModel: manifest?.data?.generatedModel === true,
	};
};

export const entryKeys = async (cacheDir: string, kind: CacheKind): Promise<string[]> => {
	const keys: string[] = [];
	for (const name of await readdirOrEmpty(kindDir(cacheDir, kind))) {
		const item = classifyKindDirItem(name);
		if (item.type === 'entry') keys.push(item.key);
	}
	return keys;
};

/** Every published entry (valid or not) of every kind, with its size, dates and lock state. */
export const listEntries = async (cacheDir: string, options: {staleMs?: number} = {}): Promise<CacheEntryInfo[]> => {
	const staleMs = options.staleMs ?? KEY_LOCK_DEFAULTS.staleMs;
	const {use} = await indexUse(cacheDir);
	const entries: CacheEntryInfo[] = [];
	for (const kind of CACHE_KINDS) {
		const inUse = await keysInUse(cacheDir, kind, {staleMs, dryRun: true});
		for (const key of await entryKeys(cacheDir, kind)) entries.push(await describeEntry(cacheDir, kind, key, use, inUse, staleMs));
	}
	return entries;
};

export type VerifyCacheReport = {checked: number; corrupt: EntryVerification[]};

/** Re-hashes every file of every entry against its manifest; reports the entries that fail. */
export const verifyCache = async (cacheDir: string, options: {onEntry?: (result: EntryVerification) => void} = {}): Promise<VerifyCacheReport> => {
	const corrupt: EntryVerification[] = [];
	let checked = 0;
	for (const kind of CACHE_KINDS) {
		for (const key of await entryKeys(cacheDir, kind)) {
			const result = await verifyEntry(cacheDir, kind, key);
			checked++;
			options.onEntry?.(result);
			if (!result.ok) corrupt.push(result);
		}
	}
	return {checked, corrupt};
};

export type RemoveEntryResult = 'removed' | 'locked' | 'in use' | 'absent';

/**
 * Unpublishes an entry under its key lock, so no process is computing or replacing it meanwhile:
 * one rename takes it out of view, then the renamed directory is deleted.
 */
export const removeEntry = async (cacheDir: string, kind: CacheKind, key: string, options: {staleMs?: number} = {}): Promise<RemoveEntryResult> => {
	const attempt = await tryAcquireKeyLock(entryLockPath(cacheDir, kind, key), options);
	if (!attempt.acquired) return 'locked';
	let trash: string | null = null;
	try {
		if ((await keysInUse(cacheDir, kind, options)).has(key)) return 'in use';
		trash = trashEntryDir(cacheDir, kind, key);
		try {
			await fsp.rename(entryDir(cacheDir, kind, key), trash);
		} catch (error) {
			if (errno(error) === 'ENOENT') return 'absent';
			throw error;
		}
		// A reader marks before it reads, without the lock: one that marked after the check above
		// may have found the entry just before the rename. Looking again after the rename closes
		// that window: a later marker's read finds the entry gone (and recomputes it).
		if ((await keysInUse(cacheDir, kind, {...options, dryRun: true})).has(key)) {
			const restored = await fsp.rename(trash, entryDir(cacheDir, kind, key)).then(
				() => true,
				() => false,
			);
			if (restored) return 'in use';
		}
	} finally {
		await attempt.lock.release();
	}
	await fsp.rm(trash, {recursive: true, force: true});
	return 'removed';
};

export type GcOptions = {
	/** Remove entries not used for this many days. Default GC_DEFAULTS.keepDays. */
	keepDays?: number;
	/** Report what would be removed without removing anything. */
	dryRun?: boolean;
	/** Lock staleness, as for key locks. */
	staleMs?: number;
	orphanAgeMs?: number;
	/** The clock, for tests. */
	nowMs?: number;
};

export type GcRemoval = {kind: CacheKind; key: string; path: string; bytes: number; reason: string};

export type GcReport = {
	/** Entries removed (or, with dryRun, that would be). */
	removed: GcRemoval[];
	/** Entries due for removal but kept because a live process holds or uses them. */
	skipped: {kind: CacheKind; key: string; reason: 'locked' | 'in use'}[];
	/** Entries kept because they were used recently. */
	kept: number;
	freedBytes: number;
	/** Leftovers removed: temporary and trash directories of crashed writers, stale locks, dangling index files. */
	leftovers: string[];
};

/**
 * Frees the cache: removes entries whose last use is older than `keepDays` and entries no reader
 * trusts (no complete manifest), never one whose key lock is held by a live process or that a
 * live process marked in use; also removes crashed writers' temporary directories (older than
 * an hour, key not locked), stale locks, and index files pointing at an entry that is gone.
 */
export const gcCache = async (cacheDir: string, options: GcOptions = {}): Promise<GcReport> => {
	const keepDays = options.keepDays ?? GC_DEFAULTS.keepDays;
	const orphanAgeMs = options.orphanAgeMs ?? GC_DEFAULTS.orphanAgeMs;
	const staleMs = options.staleMs ?? KEY_LOCK_DEFAULTS.staleMs;
	const dryRun = options.dryRun ?? false;
	const now = options.nowMs ?? Date.now();
	const cutoffMs = now - keepDays * 24 * 60 * 60 * 1000;
	const report: GcReport = {removed: [], skipped: [], kept: 0, freedBytes: 0, leftovers: []};
	const index = await indexUse(cacheDir);

	for (const kind of CACHE_KINDS) {
		const dir = kindDir(cacheDir, kind);
		const inUse = await keysInUse(cacheDir, kind, {staleMs, dryRun});
		for (const name of await readdirOrEmpty(dir)) {
			const item = classifyKindDirItem(name);
			const target = path.join(dir, name);
			if (item.type === 'entry') {
				const info = await describeEntry(cacheDir, kind, item.key, index.use, inUse, staleMs);
				const reason = !info.valid ? `incomplete: ${info.problem}` : Date.parse(info.lastUsedAt) < cutoffMs ? `unused since ${info.lastUsedAt}` : null;
				if (reason === null) {
					report.kept++;
					continue;
				}
				const outcome = info.locked ? 'locked' : info.inUse ? 'in use' : dryRun ? 'removed' : await removeEntry(cacheDir, kind, item.key, {staleMs});
				if (outcome === 'locked' || outcome === 'in use') report.skipped.push({kind, key: item.key, reason: outcome});
				else if (outcome === 'removed') {
					report.removed.push({kind, key: item.key, path: info.path, bytes: info.bytes, reason});
					report.freedBytes += info.bytes;
				}
			} else if (item.type === 'lock') {
				const state = await inspectLock(target, {staleMs});
				if (state.state === 'stale' && (dryRun || (await removeStaleLock(target, {staleMs})))) report.leftovers.push(target);
			} else if (item.type === 'temp') {
				const age = now - ((await mtimeMs(target)) ?? now);
				// A temp directory whose key is locked may be a long computation still writing.
				if (age > orphanAgeMs && (await inspectLock(entryLockPath(cacheDir, kind, item.key), {staleMs})).state !== 'held') {
					if (!dryRun) await fsp.rm(target, {recursive: true, force: true});
					report.leftovers.push(target);
				}
			} else if (item.type === 'trash' || item.type === 'takeover-guard' || item.type === 'write-probe') {
				const age = now - ((await mtimeMs(target)) ?? now);
				// Give a concurrent remover (or prober) a minute to finish its own rm.
				if (age > 60_000) {
					if (!dryRun) await fsp.rm(target, {recursive: true, force: true});
					report.leftovers.push(target);
				}
			}
		}
	}

	// Temporary index records of prerenders that crashed between write and rename.
	for (const name of await readdirOrEmpty(indexDir(cacheDir))) {
		const file = path.join(indexDir(cacheDir), name);
		if (name.startsWith('.tmp-') && now - ((await mtimeMs(file)) ?? now) > orphanAgeMs) {
			if (!dryRun) await fsp.rm(file, {force: true});
			report.leftovers.push(file);
		}
	}

	// No index record may point at an entry that is gone: one whose entry was removed now goes at
	// once; one whose entry is missing otherwise only when old (a young one may belong to a
	// prerender still publishing it).
	const removedNow = new Set(report.removed.map((r) => `${r.kind}/${r.key}`));
	for (const {file, mtimeMs: time, refs} of index.files) {
		const points = refs.some(({kind, key}) => removedNow.has(`${kind}/${key}`));
		let missing = refs.length === 0;
		for (const {kind, key} of refs) if (!missing && (await mtimeMs(entryDir(cacheDir, kind, key))) === null) missing = true;
		if (points || (missing && now - time > orphanAgeMs)) {
			if (!dryRun) await fsp.rm(file, {force: true});
			report.leftovers.push(file);
		}
	}
	return report;
};
