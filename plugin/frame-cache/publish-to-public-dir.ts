import {promises as fsp} from 'node:fs';
import path from 'node:path';
import type {DescriptorIndexRecord} from './descriptor-index.js';
import {frameFileName, PUBLIC_SUBFOLDER, publicIndexPath} from '../clip/public-layout.js';
import {entryDir, MANIFEST_FILE, uniqueSuffix} from './cache-layout.js';
import {nodeCacheFs, type CacheFs} from './cache-fs.js';
import {cacheWriteError, isCacheWriteFailure} from './cache-write-error.js';
import type {EntryManifest} from './entry-manifest.js';

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

/**
 * Mirrors `files` of a store entry into `target` atomically: into a temporary sibling first,
 * `marker` last, then one rename. A complete mirror (its marker exists) is left as it is; a
 * concurrent publisher that renames first wins and ours is dropped.
 */
const mirror = async (fs: CacheFs, from: string, target: string, files: string[], marker: string): Promise<void> => {
	try {
		await fsp.access(path.join(target, marker));
		return;
	} catch {
		// not published yet (or half-removed by hand): publish
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
		await mirror(fs, entryDir(target.cacheDir, 'clips', editKey), path.join(root, 'clips', editKey), [...clipFiles, MANIFEST_FILE], MANIFEST_FILE);
		const sourceFrames = Array.from({length: target.sourceFrameCount}, (_, i) => frameFileName(i));
		await fs.mkdir(path.join(root, 'sources', sourceKey));
		// the last frame is the marker: written last, present only when all are
		await mirror(fs, path.join(entryDir(target.cacheDir, 'sources', sourceKey), 'frames'), path.join(root, 'sources', sourceKey, 'frames'), sourceFrames, sourceFrames[sourceFrames.length - 1]);
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
