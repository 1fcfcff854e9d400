import {readdirSync, writeFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {descriptorKey, ENGINE_VERSION, fateZeroClip} from '../../plugin/clip/index.js';
import {isFateZeroError} from '../../plugin/errors/index.js';
import {indexDir, indexPath} from '../../plugin/frame-cache/cache-layout.js';
import {readIndex, writeIndex} from '../../plugin/frame-cache/descriptor-index.js';
import {tempCacheDir} from './cache-test-helpers.js';

const cacheDir = tempCacheDir('index');
const descriptor = fateZeroClip({source: 'footage/a.mp4', sourcePrompt: 'a jeep', prompt: 'a watercolor jeep'});
const key = descriptorKey(descriptor);

describe('descriptor index', () => {
	it('maps a descriptor key to its current entries, and every write replaces the record atomically', async () => {
		expect(await readIndex(cacheDir, key)).toBeNull();
		const file = await writeIndex(cacheDir, key, {editKey: 'e1', sourceKey: 's1', inversionKey: 'i1', descriptor});
		expect(file).toBe(indexPath(cacheDir, key));
		expect(await readIndex(cacheDir, key)).toMatchObject({format: 1, descriptorKey: key, editKey: 'e1', sourceKey: 's1', inversionKey: 'i1', descriptor, engineVersion: ENGINE_VERSION});
		// The source changed in place: the next prerender points the same descriptor elsewhere.
		await writeIndex(cacheDir, key, {editKey: 'e2', sourceKey: 's2', inversionKey: 'i2', descriptor});
		expect((await readIndex(cacheDir, key))?.editKey).toBe('e2');
		expect(readdirSync(indexDir(cacheDir))).toEqual([`${key}.json`]);
	});

	it('refuses a key that does not belong to the descriptor', async () => {
		const other = descriptorKey({...descriptor, seed: 1});
		await expect(writeIndex(cacheDir, other, {editKey: 'e', sourceKey: 's', inversionKey: 'i', descriptor})).rejects.toThrow(/does not belong to the descriptor/);
	});

	it('reports a damaged index file with what to do', async () => {
		writeFileSync(indexPath(cacheDir, key), '{"format": 1, "desc');
		const error = await readIndex(cacheDir, key).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'CACHE_CORRUPT')).toBe(true);
		expect((error as Error).message).toMatch(/is damaged: it is not valid JSON .*Delete it; the next "fatezero render"/);
	});
});
