import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {entryDir, LAST_USED_FILE, MANIFEST_FILE, type CacheKind} from './cache-layout.js';
import {parseManifest, type EntryManifest} from './entry-manifest.js';
import {hashFile} from './hash-file.js';
import {currentEntryUsage, type EntryUsage} from './entry-in-use.js';

export type CacheEntry = {kind: CacheKind; key: string; path: string; manifest: EntryManifest};

/**
 * The cheap check: manifest.json parses, describes this kind and key, and every file it lists
 * exists with the recorded size. Returns the manifest, or the first problem found.
 */
export const checkEntry = async (dir: string, kind: CacheKind, key: string): Promise<{manifest: EntryManifest} | {problem: string}> => {
	let text: string;
	try {
		text = await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		return {problem: code === 'ENOENT' ? 'manifest.json is missing' : `manifest.json cannot be read (${code})`};
	}
	const parsed = parseManifest(text, kind, key);
	if ('problem' in parsed) return parsed;
	const sizes = await Promise.all(
		Object.entries(parsed.manifest.files).map(async ([name, record]) => {
			try {
				const stat = await fsp.stat(path.join(dir, name));
				return stat.isFile() && stat.size === record.bytes ? null : `${name} has ${stat.size} bytes, the manifest says ${record.bytes}`;
			} catch {
				return `${name} is missing`;
			}
		}),
	);
	const problem = sizes.find((p) => p !== null);
	return problem ? {problem} : parsed;
};

/** Marks the entry as used now (the mtime of its .last-used file), for gc. Best effort: a read-only cache still serves hits. */
export const touchLastUsed = async (dir: string): Promise<void> => {
	const file = path.join(dir, LAST_USED_FILE);
	const now = new Date();
	try {
		await fsp.utimes(file, now, now);
	} catch {
		await fsp.writeFile(file, '').catch(() => undefined);
	}
};

export type ReadEntryOptions = {
	/** Mark it used now (its .last-used file), for gc's age. Default true. */
	touch?: boolean;
	/**
	 * Re-hash every file against the manifest's SHA-256 before trusting the entry (a few ms per MB),
	 * so a file corrupted in place (same size) is never served or built upon. Default true;
	 * false keeps only the cheap check (manifest, sizes).
	 */
	verify?: boolean;
	/** Marked in use (before it is read) for the job or render this read belongs to. Default: the current trackEntryUse() usage, if any. */
	inUse?: EntryUsage | null;
};

/**
 * The published entry <kind>/<key>, or why there is none a reader may trust: absent, incomplete
 * (the cheap check) or corrupt (a file's SHA-256 differs from the manifest's; `corrupt` lists them).
 */
export const inspectEntry = async (
	cacheDir: string,
	kind: CacheKind,
	key: string,
	options: ReadEntryOptions = {},
): Promise<{entry: CacheEntry} | {problem: string; corrupt: string[] | null}> => {
	const dir = entryDir(cacheDir, kind, key);
	const usage = options.inUse === undefined ? currentEntryUsage() : options.inUse;
	if (usage) await usage.mark(cacheDir, kind, key);
	let manifest: EntryManifest;
	if (options.verify ?? true) {
		const verified = await verifyEntry(cacheDir, kind, key);
		if (!verified.ok || !verified.manifest) {
			return {problem: verified.problems.join('; '), corrupt: verified.manifest ? verified.problems : null};
		}
		manifest = verified.manifest;
	} else {
		const checked = await checkEntry(dir, kind, key);
		if ('problem' in checked) return {problem: checked.problem, corrupt: null};
		manifest = checked.manifest;
	}
	if (options.touch ?? true) await touchLastUsed(dir);
	return {entry: {kind, key, path: dir, manifest}};
};

/**
 * The published entry <kind>/<key>, or null when there is none a reader may trust (absent,
 * incomplete, or a file whose hash differs from the manifest's). Marks it used unless `touch` is
 * false, and in use for the current job or render.
 */
export const readEntry = async (cacheDir: string, kind: CacheKind, key: string, options: ReadEntryOptions = {}): Promise<CacheEntry | null> => {
	const result = await inspectEntry(cacheDir, kind, key, options);
	return 'entry' in result ? result.entry : null;
};

export type EntryVerification = {kind: CacheKind; key: string; path: string; ok: boolean; problems: string[]; manifest: EntryManifest | null};

/** The full check: the cheap one, then every file re-hashed against its recorded SHA-256. */
export const verifyEntry = async (cacheDir: string, kind: CacheKind, key: string): Promise<EntryVerification> => {
	const dir = entryDir(cacheDir, kind, key);
	const checked = await checkEntry(dir, kind, key);
	if ('problem' in checked) return {kind, key, path: dir, ok: false, problems: [checked.problem], manifest: null};
	const problems: string[] = [];
	for (const [name, record] of Object.entries(checked.manifest.files)) {
		const actual = await hashFile(path.join(dir, name)).catch((error: NodeJS.ErrnoException) => ({sha256: `unreadable (${error.code ?? error.message})`, bytes: -1}));
		if (actual.sha256 !== record.sha256) problems.push(`${name}: SHA-256 ${actual.sha256.slice(0, 12)}… differs from the manifest's ${record.sha256.slice(0, 12)}…`);
	}
	return {kind, key, path: dir, ok: problems.length === 0, problems, manifest: checked.manifest};
};
