import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {entryDir, LAST_USED_FILE, MANIFEST_FILE, type CacheKind} from './cache-layout.js';
import {parseManifest, type EntryManifest} from './entry-manifest.js';
import {hashFile} from './hash-file.js';

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

/**
 * The published entry <kind>/<key>, or null when there is none a reader may trust (absent, or
 * failing the cheap check). Marks it used unless `touch` is false.
 */
export const readEntry = async (cacheDir: string, kind: CacheKind, key: string, options: {touch?: boolean} = {}): Promise<CacheEntry | null> => {
	const dir = entryDir(cacheDir, kind, key);
	const checked = await checkEntry(dir, kind, key);
	if ('problem' in checked) return null;
	if (options.touch ?? true) await touchLastUsed(dir);
	return {kind, key, path: dir, manifest: checked.manifest};
};

export type EntryVerification = {kind: CacheKind; key: string; path: string; ok: boolean; problems: string[]; manifest: EntryManifest | null};

/** The full check: the cheap one, then every file re-hashed against its recorded SHA-256. */
export const verifyEntry = async (cacheDir: string, kind: CacheKind, key: string): Promise<EntryVerification> => {
	const dir = entryDir(cacheDir, kind, key);
	const checked = await checkEntry(dir, kind, key);
	if ('problem' in checked) return {kind, key, path: dir, ok: false, problems: [checked.problem], manifest: null};
	const problems: string[] = [];
	for (const [name, record] of Object.entries(checked.manifest.files)) {
		const actual = await hashFile(path.join(dir, name));
		if (actual.sha256 !== record.sha256) problems.push(`${name}: SHA-256 ${actual.sha256.slice(0, 12)}… differs from the manifest's ${record.sha256.slice(0, 12)}…`);
	}
	return {kind, key, path: dir, ok: problems.length === 0, problems, manifest: checked.manifest};
};
