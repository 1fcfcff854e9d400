import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {publicIndexPath, PUBLIC_SUBFOLDER} from '../clip/public-layout.js';
import type {CacheKind} from './cache-layout.js';
import {readIndexFolder} from './index-folder.js';

/**
 * What a store entry left in a public dir (publish-to-public-dir.ts): the records of
 * `fatezero/index/` that name it, and its copy `fatezero/<kind>/<key>/` (clips and sources only;
 * inversions are never published). Nothing else of the public dir is ever named here: the user's
 * own assets, and copies of entries this store does not remove (a deployed project may keep its
 * published clips without a store), stay as they are.
 */
export type PublishedCopies = {records: string[]; copy: string | null};

const publicRoot = (publicDir: string): string => path.join(publicDir, PUBLIC_SUBFOLDER);

/** The public index folder of a public dir. */
export const publicIndexDir = (publicDir: string): string => path.join(publicRoot(publicDir), path.dirname(publicIndexPath('x')));

const exists = (target: string): Promise<boolean> =>
	fsp.lstat(target).then(
		() => true,
		() => false,
	);

/**
 * The public index records naming `kind/key`, and the entry's public copy if there is one. An
 * inversion has neither: the browser reads only a clip's and its source's copies, so a record
 * stays valid without its inversion.
 */
export const publishedCopiesOf = async (publicDir: string, kind: CacheKind, key: string): Promise<PublishedCopies> => {
	if (kind === 'inversions') return {records: [], copy: null};
	const records = (await readIndexFolder(publicIndexDir(publicDir))).filter(({refs}) => refs.some((ref) => ref.kind === kind && ref.key === key)).map(({file}) => file);
	const copy = path.join(publicRoot(publicDir), kind, key);
	return {records, copy: (await exists(copy)) ? copy : null};
};

/**
 * Unpublishes: the index records first (one unlink each), so the browser stops resolving a clip
 * before any file of its copy goes, then the copy. Publication runs the other way round (copy
 * first, index record last), so no record ever points at a partial copy. Returns what it removed.
 */
export const removePublishedCopies = async ({records, copy}: PublishedCopies): Promise<string[]> => {
	const removed: string[] = [];
	for (const file of records) {
		try {
			await fsp.unlink(file);
			removed.push(file);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
		}
	}
	if (copy && (await exists(copy))) {
		await fsp.rm(copy, {recursive: true, force: true});
		removed.push(copy);
	}
	return removed;
};
