import {existsSync, promises as fsp} from 'node:fs';
import path from 'node:path';
import type {DescriptorIndexRecord} from './descriptor-index.js';
import {frameFileName, PUBLIC_SUBFOLDER, publicIndexPath} from '../clip/public-layout.js';
import {entryDir, MANIFEST_FILE, uniqueSuffix} from './cache-layout.js';
import {nodeCacheFs, type CacheFs} from './cache-fs.js';
import {cacheWriteError, isCacheWriteFailure} from './cache-write-error.js';
import type {EntryManifest} from './entry-manifest.js';
import {hashFile} from './hash-file.js';
import {FateZeroError} from '../errors/fatezero-error.js';

export type PublicFramesTarget = {
	cacheDir: string;
	/** Remotion's public dir; files go to its fatezero/ subfolder. */
	publicDir: string;
	record: Pick<DescriptorIndexRecord, 'descriptorKey' | 'editKey' | 'sourceKey' | 'inversionKey' | 'descriptor'>;
	/** The clip entry's manifest (frame count, fps, size, and whether it was made with the generated model). */
	clipManifest: EntryManifest;
	sourceFrameCount: number;
	fs?: CacheFs;
};

/** The public fatezero/ folder of a public dir. */
export const publicFramesDir = (publicDir: string): string => path.join(publicDir, PUBLIC_SUBFOLDER);

// A hard link costs no space and no copy time; across devices (or where links are refused) copy.
const linkOrCopy = async (from: string, to: string): Promise<void> => {
	try {
		await fsp.link(from, to);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
		await fsp.copyFile(from, to);
	}
};

/** The files of `dir` (of `expected`) whose SHA-256 differs from the expected one, or that cannot be read. */
const mismatches = async (dir: string, expected: Map<string, string>): Promise<string[]> => {
	const wrong: string[] = [];
	for (const [name, sha256] of expected) {
		const actual = await hashFile(path.join(dir, name)).then(
			(h) => h.sha256,
			() => null,
		);
		if (actual !== sha256) wrong.push(name);
	}
	return wrong;
};

/**
 * Mirrors `files` of a store entry into `target` atomically: into a temporary sibling first,
 * `marker` last, then one rename. A complete mirror (its marker exists) whose every file has the
 * hash the store's manifest records is left as it is; any other is rebuilt from the store (a
 * recomputed entry, a file damaged in place). A store file that itself fails its hash is never
 * published: CACHE_CORRUPT names it. A concurrent publisher that renames first wins.
 */
const mirror = async (fs: CacheFs, from: string, target: string, files: string[], marker: string, expected: Map<string, string>): Promise<void> => {
	const complete = await fsp.access(path.join(target, marker)).then(
		() => true,
		() => false,
	);
	if (complete && (await mismatches(target, expected)).length === 0) return;
	const corrupt = await mismatches(from, expected);
	const missing = corrupt.find((name) => !existsSync(path.join(from, name)));
	if (missing !== undefined) {
		throw new FateZeroError(
			'CACHE_CORRUPT',
			`The cache file ${path.join(from, missing)} is gone: its entry was removed while this job used it (by hand, or by a process that ignores in-use marks). Nothing was published; run the job again and it recomputes the entry.`,
		);
	}
	if (corrupt.length > 0) {
		throw new FateZeroError(
			'CACHE_CORRUPT',
			`The cache file ${path.join(from, corrupt[0])}${corrupt.length > 1 ? ` (and ${corrupt.length - 1} more)` : ''} does not match the SHA-256 its manifest records, so it was not published. Run "fatezero cache verify --remove-corrupt"; the next run recomputes it.`,
		);
	}
	const temp = path.join(path.dirname(target), `.tmp-${path.basename(target)}-${uniqueSuffix()}`);
	try {
		await fs.mkdir(temp);
		const ordered = [...files.filter((f) => f !== marker), marker];
		for (const name of ordered) await linkOrCopy(path.join(from, name), path.join(temp, name));
		await fs.rm(target); // an incomplete leftover (no marker)
		await fs.rename(temp, target);
	} catch (error) {
		await fs.rm(temp).catch(() => undefined);
		const code = (error as NodeJS.ErrnoException).code;
		// another process published the same entry at the same moment
		if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await fsp.access(path.join(target, marker)).then(() => true, () => false))) return;
		throw error;
	}
};

/** SHA-256 of each source frame as the source entry's manifest records it (frames/<name>). */
const sourceFrameHashes = async (sourceDir: string, frames: string[]): Promise<Map<string, string>> => {
	let files: {[name: string]: {sha256: string}} = {};
	try {
		files = (JSON.parse(await fsp.readFile(path.join(sourceDir, MANIFEST_FILE), 'utf8')) as {files?: typeof files}).files ?? {};
	} catch (error) {
		if (!existsSync(sourceDir)) {
			throw new FateZeroError('CACHE_CORRUPT', `The source entry ${sourceDir} is gone: it was removed while this job used it (by hand, or by a process that ignores in-use marks). Nothing was published; run the job again and it imports the source anew.`, {cause: error});
		}
		throw new FateZeroError('CACHE_CORRUPT', `The source entry ${sourceDir} has no readable manifest.json (${(error as Error).message}), so its frames cannot be checked or published. Run the job again: it imports the source anew.`, {cause: error});
	}
	const expected = new Map<string, string>();
	for (const name of frames) {
		const record = files[`frames/${name}`];
		if (!record) throw new FateZeroError('CACHE_CORRUPT', `The source entry ${sourceDir} lists no frames/${name} in its manifest. Run "fatezero cache verify --remove-corrupt", then the job again.`);
		expected.set(name, record.sha256);
	}
	return expected;
};

/**
 * Publishes what the browser reads of a clip into `<publicDir>/fatezero/` (design §5): the edited
 * frames and manifest, the imported source frames (the 'source' variant), and last the index
 * record that makes the descriptor resolve. Files are hard links into the store where possible.
 * The heavy data (pixels, inversions, graphs, models) never leaves the store.
 */
export const publishToPublicDir = async (target: PublicFramesTarget): Promise<string> => {
	const fs = target.fs ?? nodeCacheFs;
	const root = publicFramesDir(target.publicDir);
	const {editKey, sourceKey, descriptorKey} = target.record;
	const indexFile = path.join(root, publicIndexPath(descriptorKey));
	try {
		for (const folder of ['clips', 'sources', 'index']) await fs.mkdir(path.join(root, folder));
		const clipFiles = Object.keys(target.clipManifest.files);
		const clipDir = entryDir(target.cacheDir, 'clips', editKey);
		// what the browser is about to read is checked against the store's manifests (issue 16)
		const clipExpected = new Map(Object.entries(target.clipManifest.files).map(([name, record]) => [name, record.sha256]));
		clipExpected.set(MANIFEST_FILE, (await hashFile(path.join(clipDir, MANIFEST_FILE))).sha256);
		await mirror(fs, clipDir, path.join(root, 'clips', editKey), [...clipFiles, MANIFEST_FILE], MANIFEST_FILE, clipExpected);
		const sourceFrames = Array.from({length: target.sourceFrameCount}, (_, i) => frameFileName(i));
		await fs.mkdir(path.join(root, 'sources', sourceKey));
		const sourceDir = entryDir(target.cacheDir, 'sources', sourceKey);
		const sourceExpected = await sourceFrameHashes(sourceDir, sourceFrames);
		// the last frame is the marker: written last, present only when all are
		await mirror(fs, path.join(sourceDir, 'frames'), path.join(root, 'sources', sourceKey, 'frames'), sourceFrames, sourceFrames[sourceFrames.length - 1], sourceExpected);
		const record = {
			format: 1,
			descriptorKey,
			editKey,
			sourceKey,
			inversionKey: target.record.inversionKey,
			generatedModel: target.clipManifest.data?.generatedModel === true,
			descriptor: target.record.descriptor,
			updatedAt: new Date().toISOString(),
		};
		const temp = path.join(path.dirname(indexFile), `.tmp-${descriptorKey}-${uniqueSuffix()}.json`);
		try {
			await fs.writeFile(temp, `${JSON.stringify(record, null, '\t')}\n`);
			await fs.rename(temp, indexFile);
		} catch (error) {
			await fs.rm(temp).catch(() => undefined);
			throw error;
		}
	} catch (error) {
		throw isCacheWriteFailure(error, target.publicDir) ? cacheWriteError(error, `the public frames of clip ${editKey}`, root) : error;
	}
	return root;
};
