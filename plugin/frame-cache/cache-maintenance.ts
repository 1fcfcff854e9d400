import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {
	CACHE_KINDS,
	classifyKindDirItem,
	entryDir,
	entryLockPath,
	indexDir,
	kindDir,
	LAST_USED_FILE,
	trashEntryDir,
	type CacheKind,
} from './cache-layout.js';
import {keysInUse} from './entry-in-use.js';
import {FreedBytes} from './freed-bytes.js';
import {mtimeMs, readdirOrEmpty, readIndexFolder, type IndexFileRefs} from './index-folder.js';
import {inspectLock, KEY_LOCK_DEFAULTS, removeStaleLock, tryAcquireKeyLock} from './key-lock.js';
import {publishedCopiesOf, removePublishedCopies} from './public-copies.js';
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

export {readIndexFolder, type IndexFileRefs};

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

export type RemoveEntryOptions = {
	staleMs?: number;
	/**
	 * Remotion's public dir: a removed clip or source also leaves its `fatezero/` folder there
	 * (its public copy and the index records naming it; see public-copies.ts).
	 */
	publicDir?: string | null;
	/** The ledger of a run that removes several entries (their files may share hard links). */
	freed?: FreedBytes;
};

export type RemovedEntry = {
	outcome: RemoveEntryResult;
	/** Public index records and the public copy removed with the entry. */
	unpublished: string[];
	/** Bytes really freed: files none of whose hard links is left. */
	freedBytes: number;
};

/**
 * Unpublishes an entry under its key lock, so no process is computing or replacing it meanwhile:
 * one rename takes it out of view, then (still under the lock, so no job republishes it between)
 * its public index records and copy go, then the renamed directory is deleted.
 */
export const removeEntryWithCopies = async (cacheDir: string, kind: CacheKind, key: string, options: RemoveEntryOptions = {}): Promise<RemovedEntry> => {
	const result: RemovedEntry = {outcome: 'locked', unpublished: [], freedBytes: 0};
	const attempt = await tryAcquireKeyLock(entryLockPath(cacheDir, kind, key), options);
	if (!attempt.acquired) return result;
	let trash: string | null = null;
	try {
		if ((await keysInUse(cacheDir, kind, options)).has(key)) return {...result, outcome: 'in use'};
		const renamed = trashEntryDir(cacheDir, kind, key);
		try {
			await fsp.rename(entryDir(cacheDir, kind, key), renamed);
		} catch (error) {
			if (errno(error) === 'ENOENT') return {...result, outcome: 'absent'};
			throw error;
		}
		trash = renamed;
		// A reader marks before it reads, without the lock: one that marked after the check above
		// may have found the entry just before the rename. Looking again after the rename closes
		// that window: a later marker's read finds the entry gone (and recomputes it).
		if ((await keysInUse(cacheDir, kind, {...options, dryRun: true})).has(key)) {
			const restored = await fsp.rename(renamed, entryDir(cacheDir, kind, key)).then(
				() => true,
				() => false,
			);
			if (restored) {
				trash = null;
				return {...result, outcome: 'in use'};
			}
		}
		const copies = options.publicDir ? await publishedCopiesOf(options.publicDir, kind, key) : {records: [], copy: null};
		const freed = options.freed ?? new FreedBytes();
		result.freedBytes = await freed.count([renamed, ...copies.records, ...(copies.copy ? [copies.copy] : [])]);
		result.outcome = 'removed';
		result.unpublished = await removePublishedCopies(copies);
	} finally {
		await attempt.lock.release();
		if (trash) await fsp.rm(trash, {recursive: true, force: true});
	}
	return result;
};

/** removeEntryWithCopies without a public dir: the store entry alone. */
export const removeEntry = async (cacheDir: string, kind: CacheKind, key: string, options: {staleMs?: number} = {}): Promise<RemoveEntryResult> =>
	(await removeEntryWithCopies(cacheDir, kind, key, options)).outcome;

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
	/**
	 * Remotion's public dir the store's clips were published into (or a function finding it, called
	 * once, when a clip or source is due for removal): a removed clip or source also loses its
	 * public copy and the public index records naming it. Without it the public dir is left alone,
	 * and the hard links there keep those files on disk (freedBytes does not count them).
	 */
	publicDir?: string | null | (() => Promise<string | null>);
};

export type GcRemoval = {
	kind: CacheKind;
	key: string;
	path: string;
	/** Bytes under the entry directory. */
	bytes: number;
	/** Bytes really freed with the entry (and its public copy): files none of whose hard links is left. */
	freedBytes: number;
	reason: string;
};

export type GcReport = {
	/** Entries removed (or, with dryRun, that would be). */
	removed: GcRemoval[];
	/** Entries due for removal but kept because a live process holds or uses them. */
	skipped: {kind: CacheKind; key: string; reason: 'locked' | 'in use'}[];
	/** Entries kept because they were used recently. */
	kept: number;
	/** Bytes really freed on disk (or, with dryRun, that would be): a file still hard-linked elsewhere frees nothing. */
	freedBytes: number;
	/** Public index records and public copies removed with their entries (or that would be). */
	unpublished: string[];
	/** Leftovers removed: temporary and trash directories of crashed writers, stale locks, dangling index files. */
	leftovers: string[];
};

/**
 * Frees the cache: removes entries whose last use is older than `keepDays` and entries no reader
 * trusts (no complete manifest), never one whose key lock is held by a live process or that a
 * live process marked in use; also removes crashed writers' temporary directories (older than
 * an hour, key not locked), stale locks, and index files pointing at an entry that is gone.
 * With `publicDir`, a removed clip or source leaves the public dir too (see GcOptions.publicDir).
 */
export const gcCache = async (cacheDir: string, options: GcOptions = {}): Promise<GcReport> => {
	const keepDays = options.keepDays ?? GC_DEFAULTS.keepDays;
	const orphanAgeMs = options.orphanAgeMs ?? GC_DEFAULTS.orphanAgeMs;
	const staleMs = options.staleMs ?? KEY_LOCK_DEFAULTS.staleMs;
	const dryRun = options.dryRun ?? false;
	const now = options.nowMs ?? Date.now();
	const cutoffMs = now - keepDays * 24 * 60 * 60 * 1000;
	const report: GcReport = {removed: [], skipped: [], kept: 0, freedBytes: 0, unpublished: [], leftovers: []};
	const index = await indexUse(cacheDir);
	const freed = new FreedBytes();
	let publicDir: Promise<string | null> | null = null;
	const publicDirFor = (kind: CacheKind): Promise<string | null> => {
		if (kind === 'inversions') return Promise.resolve(null);
		publicDir ??= typeof options.publicDir === 'function' ? options.publicDir() : Promise.resolve(options.publicDir ?? null);
		return publicDir;
	};

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
				if (info.locked || info.inUse) {
					report.skipped.push({kind, key: item.key, reason: info.locked ? 'locked' : 'in use'});
					continue;
				}
				const pub = await publicDirFor(kind);
				let removal: RemovedEntry;
				if (dryRun) {
					const copies = pub ? await publishedCopiesOf(pub, kind, item.key) : {records: [], copy: null};
					// a record naming both a removed clip and its removed source is listed (and counted) once
					const unpublished = [...copies.records, ...(copies.copy ? [copies.copy] : [])].filter((file) => !report.unpublished.includes(file));
					removal = {outcome: 'removed', unpublished, freedBytes: await freed.count([info.path, ...unpublished])};
				} else {
					removal = await removeEntryWithCopies(cacheDir, kind, item.key, {staleMs, publicDir: pub, freed});
				}
				if (removal.outcome === 'locked' || removal.outcome === 'in use') report.skipped.push({kind, key: item.key, reason: removal.outcome});
				else if (removal.outcome === 'removed') {
					report.removed.push({kind, key: item.key, path: info.path, bytes: info.bytes, freedBytes: removal.freedBytes, reason});
					report.freedBytes += removal.freedBytes;
					report.unpublished.push(...removal.unpublished);
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
