import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {ENGINE_VERSION} from '../../plugin/clip/index.js';
import {isFateZeroError} from '../../plugin/errors/index.js';
import {entryDir, kindDir} from '../../plugin/frame-cache/cache-layout.js';
import {nodeCacheFs, type CacheFs} from '../../plugin/frame-cache/cache-fs.js';
import {publishEntry} from '../../plugin/frame-cache/publish-entry.js';
import {readEntry, verifyEntry} from '../../plugin/frame-cache/read-entry.js';
import {tempCacheDir, writeTestFrames} from './cache-test-helpers.js';

const cacheDir = tempCacheDir('publish');
const noTemps = (kind: 'clips' | 'sources' | 'inversions' = 'clips') => readdirSync(kindDir(cacheDir, kind)).filter((n) => n.startsWith('.tmp-'));

describe('publishEntry', () => {
	it('publishes files with a manifest of checksums, sizes, clip fields, key inputs, timings and engine version', async () => {
		const before = Date.now();
		const published = await publishEntry({cacheDir, kind: 'clips', key: 'k1', write: writeTestFrames(3)});
		const after = Date.now();
		expect(published.published).toBe(true);
		expect(published.path).toBe(entryDir(cacheDir, 'clips', 'k1'));
		const m = published.manifest;
		expect(m).toMatchObject({format: 1, kind: 'clips', key: 'k1', engineVersion: ENGINE_VERSION, frameCount: 3, fps: 12, width: 64, height: 64, keyInputs: {test: true, seed: 1}});
		expect(Object.keys(m.files)).toEqual(['00000.png', '00001.png', '00002.png']);
		expect(m.files['00000.png'].bytes).toBe(4096);
		expect(m.files['00000.png'].sha256).toMatch(/^[0-9a-f]{64}$/);
		expect(m.timingsMs).toHaveProperty('edit', 1);
		expect(m.timingsMs.write).toBeGreaterThanOrEqual(0);
		expect(Date.parse(m.createdAt)).toBeGreaterThanOrEqual(before);
		expect(Date.parse(m.createdAt)).toBeLessThanOrEqual(after);
		expect(JSON.parse(readFileSync(path.join(published.path, 'manifest.json'), 'utf8'))).toEqual(m);
		expect(noTemps()).toEqual([]);
		expect((await readEntry(cacheDir, 'clips', 'k1'))?.manifest).toEqual(m);
		expect((await verifyEntry(cacheDir, 'clips', 'k1')).ok).toBe(true);
	});

	it('supports files in sub-folders', async () => {
		const published = await publishEntry({
			cacheDir,
			kind: 'inversions',
			key: 'inv1',
			write: async (_dir, writer) => {
				await writer.writeFile('latents/step-000.f32', new Uint8Array(64));
				await writer.writeFile('masks/00000.f32', 'mask');
				return {keyInputs: null, data: {steps: 1}};
			},
		});
		expect(Object.keys(published.manifest.files)).toEqual(['latents/step-000.f32', 'masks/00000.f32']);
		expect(published.manifest.data).toEqual({steps: 1});
		expect((await verifyEntry(cacheDir, 'inversions', 'inv1')).ok).toBe(true);
	});

	it('readers distrust entries whose files are damaged; verifyEntry re-hashes', async () => {
		await publishEntry({cacheDir, kind: 'clips', key: 'damaged', write: writeTestFrames(2)});
		const frame = path.join(entryDir(cacheDir, 'clips', 'damaged'), '00001.png');
		const bytes = readFileSync(frame);
		bytes[10] ^= 0xff;
		writeFileSync(frame, bytes);
		expect(await readEntry(cacheDir, 'clips', 'damaged', {verify: false})).not.toBeNull(); // same size: only the full check sees it
		expect(await readEntry(cacheDir, 'clips', 'damaged')).toBeNull(); // which readers run by default (issue 16)
		const verified = await verifyEntry(cacheDir, 'clips', 'damaged');
		expect(verified.ok).toBe(false);
		expect(verified.problems[0]).toMatch(/^00001\.png: SHA-256 /);
		writeFileSync(frame, bytes.subarray(0, 100));
		expect(await readEntry(cacheDir, 'clips', 'damaged')).toBeNull();
	});

	it('keeps the entry another process published first and discards its own', async () => {
		const first = await publishEntry({cacheDir, kind: 'clips', key: 'race', write: writeTestFrames(2, 1)});
		const second = await publishEntry({cacheDir, kind: 'clips', key: 'race', write: writeTestFrames(2, 2)});
		expect(second.published).toBe(false);
		expect(second.manifest).toEqual(first.manifest);
		expect(noTemps()).toEqual([]);
	});

	it('replaces a leftover directory that no reader trusts', async () => {
		const leftover = entryDir(cacheDir, 'clips', 'leftover');
		mkdirSync(leftover, {recursive: true});
		writeFileSync(path.join(leftover, '00000.png'), 'half a copy');
		const published = await publishEntry({cacheDir, kind: 'clips', key: 'leftover', write: writeTestFrames(2)});
		expect(published.published).toBe(true);
		expect((await verifyEntry(cacheDir, 'clips', 'leftover')).ok).toBe(true);
		expect(readdirSync(kindDir(cacheDir, 'clips')).filter((n) => n.startsWith('.trash-'))).toEqual([]);
	});

	it('a full disk while writing removes the partial entry and says what to do', async () => {
		let writes = 0;
		const fullDisk: CacheFs = {
			...nodeCacheFs,
			writeFile: async (file, data) => {
				if (++writes === 2) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${file}'`), {code: 'ENOSPC', syscall: 'write', path: file});
				await nodeCacheFs.writeFile(file, data);
			},
		};
		const error = await publishEntry({cacheDir, kind: 'clips', key: 'nospace', write: writeTestFrames(3), fs: fullDisk}).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'CACHE_WRITE_FAILED')).toBe(true);
		const message = (error as Error).message;
		expect(message).toContain('cache entry clips/nospace');
		expect(message).toContain(path.join(kindDir(cacheDir, 'clips'), '.tmp-nospace-'));
		expect(message).toContain('ENOSPC');
		expect(message).toMatch(/free space .*--cache-dir or FATEZERO_CACHE_DIR/);
		expect(noTemps()).toEqual([]);
		expect(existsSync(entryDir(cacheDir, 'clips', 'nospace'))).toBe(false);
	});

	it('passes other compute errors through unchanged, after removing the partial entry', async () => {
		const boom = new Error('inference failed');
		await expect(publishEntry({cacheDir, kind: 'clips', key: 'boom', write: async () => Promise.reject(boom)})).rejects.toBe(boom);
		expect(noTemps()).toEqual([]);
		await expect(publishEntry({cacheDir, kind: 'clips', key: 'bad-name', write: async (_d, w) => (await w.writeFile('../escape.png', 'x'), {keyInputs: null})})).rejects.toThrow(
			/not allowed/,
		);
		await expect(publishEntry({cacheDir, kind: 'clips', key: 'bad-name', write: async (_d, w) => (await w.writeFile('manifest.json', 'x'), {keyInputs: null})})).rejects.toThrow(/not allowed/);
		expect(noTemps()).toEqual([]);
	});
});
