import {promises as fsp} from 'node:fs';
import path from 'node:path';
import {z} from 'zod';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {descriptorKey as computeDescriptorKey} from '../clip/descriptor-key.js';
import {ENGINE_VERSION} from '../clip/engine-version.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {assertCacheKey, indexDir, indexPath, uniqueSuffix} from './cache-layout.js';
import {nodeCacheFs, type CacheFs} from './cache-fs.js';
import {cacheWriteError, isCacheWriteFailure} from './cache-write-error.js';

/**
 * `index/<descriptorKey>.json`: which content-addressed entries a descriptor resolves to now. The
 * browser can hash a descriptor but not its source file, so a composition goes descriptor key →
 * this record → `clips/<editKey>/manifest.json`. Every prerender rewrites it, so a source changed
 * in place is picked up by the next one.
 */
export type DescriptorIndexRecord = {
	format: 1;
	descriptorKey: string;
	editKey: string;
	sourceKey: string;
	inversionKey: string;
	descriptor: ClipDescriptor;
	engineVersion: string;
	/** ISO 8601 */
	updatedAt: string;
};

export type DescriptorIndexTarget = {editKey: string; sourceKey: string; inversionKey: string; descriptor: ClipDescriptor};

const recordSchema = z.object({
	format: z.literal(1),
	descriptorKey: z.string(),
	editKey: z.string(),
	sourceKey: z.string(),
	inversionKey: z.string(),
	descriptor: z.record(z.string(), z.unknown()),
	engineVersion: z.string(),
	updatedAt: z.string(),
});

/**
 * Points the descriptor key at its entries, atomically: the record is written to a temporary
 * file in index/ and renamed over the old one, so a reader sees the old record or the new one.
 */
export const writeIndex = async (cacheDir: string, descriptorKey: string, target: DescriptorIndexTarget, options: {fs?: CacheFs} = {}): Promise<string> => {
	const fs = options.fs ?? nodeCacheFs;
	assertCacheKey(descriptorKey, 'descriptor key');
	for (const name of ['editKey', 'sourceKey', 'inversionKey'] as const) assertCacheKey(target[name], name);
	const expected = computeDescriptorKey(target.descriptor);
	if (expected !== descriptorKey) {
		throw new FateZeroError('INVALID_INPUT', `writeIndex: descriptor key ${descriptorKey} does not belong to the descriptor given (its key is ${expected}). Pass descriptorKey(descriptor).`);
	}
	const record: DescriptorIndexRecord = {format: 1, descriptorKey, ...target, engineVersion: ENGINE_VERSION, updatedAt: new Date().toISOString()};
	const file = indexPath(cacheDir, descriptorKey);
	const temp = path.join(indexDir(cacheDir), `.tmp-${descriptorKey}-${uniqueSuffix()}.json`);
	try {
		await fs.mkdir(indexDir(cacheDir));
		await fs.writeFile(temp, `${JSON.stringify(record, null, '\t')}\n`);
		await fs.rename(temp, file);
		await fs.fsync(indexDir(cacheDir)).catch(() => undefined);
	} catch (error) {
		await fs.rm(temp).catch(() => undefined);
		throw isCacheWriteFailure(error, cacheDir) ? cacheWriteError(error, `the cache index of descriptor ${descriptorKey}`, file) : error;
	}
	return file;
};

/** The index record of a descriptor key, or null when none was written yet. */
export const readIndex = async (cacheDir: string, descriptorKey: string): Promise<DescriptorIndexRecord | null> => {
	const file = indexPath(cacheDir, descriptorKey);
	let text: string;
	try {
		text = await fsp.readFile(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
		throw error;
	}
	let problem: string | null = null;
	try {
		const result = recordSchema.safeParse(JSON.parse(text));
		if (result.success && result.data.descriptorKey === descriptorKey) return result.data as DescriptorIndexRecord;
		problem = result.success ? `it names descriptor key ${result.data.descriptorKey}` : `field ${result.error.issues[0].path.join('.') || '(root)'} is invalid`;
	} catch (error) {
		problem = `it is not valid JSON (${(error as Error).message})`;
	}
	throw new FateZeroError('CACHE_CORRUPT', `The cache index file ${file} is damaged: ${problem}. Delete it; the next "fatezero render" (its prerender step) writes it again.`);
};
