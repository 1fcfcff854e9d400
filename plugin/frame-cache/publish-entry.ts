import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {ENGINE_VERSION} from '../clip/engine-version.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {entryDir, kindDir, LAST_USED_FILE, MANIFEST_FILE, tempEntryDir, trashEntryDir, type CacheKind} from './cache-layout.js';
import {nodeCacheFs, type CacheFs} from './cache-fs.js';
import {cacheWriteError, isCacheWriteFailure} from './cache-write-error.js';
import {MANIFEST_FORMAT, type EntryFileRecord, type EntryManifest, type ManifestFields} from './entry-manifest.js';
import {hashFile} from './hash-file.js';
import {checkEntry} from './read-entry.js';

/** Handed to a compute function: its private directory and a writer that goes through the injected fs. */
export type EntryWriter = {
	dir: string;
	/** Writes (and fsyncs) `name`, a relative POSIX path inside the entry; folders are created. */
	writeFile(name: string, data: Uint8Array | string): Promise<void>;
};

export type EntryComputeFn = (tempDir: string, writer: EntryWriter) => Promise<ManifestFields>;

export type PublishEntryOptions = {
	cacheDir: string;
	kind: CacheKind;
	key: string;
	/** Writes the entry's files into `tempDir` and reports the manifest fields. */
	write: EntryComputeFn;
	fs?: CacheFs;
};

export type PublishedEntry = {
	path: string;
	manifest: EntryManifest;
	/** False when another process published the key first and its entry was kept instead of ours. */
	published: boolean;
};

const RESERVED = new Set([MANIFEST_FILE, LAST_USED_FILE]);

const checkName = (name: string): string => {
	const parts = name.split('/');
	if (name === '' || name.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..') || RESERVED.has(name)) {
		throw new FateZeroError('INVALID_INPUT', `Cache entry file name ${JSON.stringify(name)} is not allowed: use a relative path without "." or ".." segments, other than ${[...RESERVED].join(' and ')}.`);
	}
	return name;
};

/** Every regular file under `dir` as relative POSIX paths, sorted. Links and special files are refused: an entry must be self-contained. */
const listFiles = async (dir: string, prefix = ''): Promise<string[]> => {
	const names: string[] = [];
	for (const dirent of await fsp.readdir(path.join(dir, prefix), {withFileTypes: true})) {
		const name = prefix ? `${prefix}/${dirent.name}` : dirent.name;
		if (dirent.isDirectory()) names.push(...(await listFiles(dir, name)));
		else if (dirent.isFile()) names.push(checkName(name));
		else throw new FateZeroError('INVALID_INPUT', `Cache entry file ${name} is a link or special file. Write regular files into the entry; it must not depend on files outside it.`);
	}
	return names.sort();
};

/**
 * Writes an entry and publishes it atomically:
 * 1. `write` fills a private temporary sibling `<kind>/.tmp-<key>-<pid>-<rand>/`;
 * 2. every file is checksummed and fsynced; manifest.json is written LAST, then the directory is
 *    fsynced;
 * 3. one rename() makes `<kind>/<key>` appear complete, or not at all.
 * If `<kind>/<key>` already holds a valid entry (another process won), ours is discarded and
 * theirs returned; an invalid leftover there is moved aside and replaced. On any failure the
 * temporary directory is removed; storage failures become CACHE_WRITE_FAILED.
 */
export const publishEntry = async (options: PublishEntryOptions): Promise<PublishedEntry> => {
	const {cacheDir, kind, key} = options;
	const fs = options.fs ?? nodeCacheFs;
	const finalDir = entryDir(cacheDir, kind, key);
	const tempDir = tempEntryDir(cacheDir, kind, key);
	const writer: EntryWriter = {
		dir: tempDir,
		writeFile: async (name, data) => {
			const file = path.join(tempDir, ...checkName(name).split('/'));
			await fs.mkdir(path.dirname(file));
			await fs.writeFile(file, data);
		},
	};
	try {
		await fs.mkdir(tempDir);
		const writeStart = performance.now();
		const fields = await options.write(tempDir, writer);
		const writeMs = performance.now() - writeStart;

		const finalizeStart = performance.now();
		const files: {[name: string]: EntryFileRecord} = {};
		for (const name of await listFiles(tempDir)) files[name] = await hashFile(path.join(tempDir, ...name.split('/')), {sync: true});
		const manifest: EntryManifest = {
			format: MANIFEST_FORMAT,
			kind,
			key,
			engineVersion: ENGINE_VERSION,
			createdAt: new Date().toISOString(),
			frameCount: fields.frameCount ?? null,
			fps: fields.fps ?? null,
			width: fields.width ?? null,
			height: fields.height ?? null,
			keyInputs: fields.keyInputs,
			timingsMs: {...fields.timingsMs, write: writeMs, finalize: performance.now() - finalizeStart},
			data: fields.data ?? {},
			files,
		};
		await fs.writeFile(path.join(tempDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, '\t')}\n`);
		await fs.writeFile(path.join(tempDir, LAST_USED_FILE), '');
		await fs.fsync(tempDir);

		const published = await renameIntoPlace(fs, tempDir, finalDir, kind, key, cacheDir);
		await fs.fsync(kindDir(cacheDir, kind)).catch(() => undefined);
		return published ?? {path: finalDir, manifest, published: true};
	} catch (error) {
		await fs.rm(tempDir).catch(() => undefined);
		if (isCacheWriteFailure(error, cacheDir)) {
			throw cacheWriteError(error, `cache entry ${kind}/${key} (the partial entry was removed)`, tempDir);
		}
		throw error;
	}
};

/** Returns null when ours was published, or the other process's entry when it was there first. */
const renameIntoPlace = async (fs: CacheFs, tempDir: string, finalDir: string, kind: CacheKind, key: string, cacheDir: string): Promise<PublishedEntry | null> => {
	for (let attempt = 0; ; attempt++) {
		try {
			await fs.rename(tempDir, finalDir);
			return null;
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			// Windows reports a non-empty target directory as EPERM.
			const taken = code === 'ENOTEMPTY' || code === 'EEXIST' || (process.platform === 'win32' && code === 'EPERM');
			if (!taken || attempt >= 3) throw error;
		}
		const theirs = await checkEntry(finalDir, kind, key);
		if ('manifest' in theirs) {
			await fs.rm(tempDir);
			return {path: finalDir, manifest: theirs.manifest, published: false};
		}
		// A directory no reader trusts (a half-copied cache, a hand-edited entry): move it aside
		// with one rename, so readers never see a mix of its files and ours.
		const trash = trashEntryDir(cacheDir, kind, key);
		try {
			await fs.rename(finalDir, trash);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
		}
		await fs.rm(trash).catch(() => undefined);
	}
};
