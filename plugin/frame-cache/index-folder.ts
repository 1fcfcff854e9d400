import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {isCacheKey, type CacheKind} from './cache-layout.js';

const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | null)?.code;

/** The names in `dir`, sorted; none when it does not exist. */
export const readdirOrEmpty = async (dir: string): Promise<string[]> => {
	try {
		return (await fsp.readdir(dir)).sort();
	} catch (error) {
		if (errno(error) === 'ENOENT') return [];
		throw error;
	}
};

export const mtimeMs = async (file: string): Promise<number | null> => {
	try {
		return (await fsp.stat(file)).mtimeMs;
	} catch {
		return null;
	}
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
