import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {getOrCompute} from '../../plugin/frame-cache/compute-once.js';
import {readEntry} from '../../plugin/frame-cache/read-entry.js';
import {readInversionEntry, writeInversionEntry} from '../../plugin/jobs/inversion-entry.js';
import {encodeSafetensors} from '../../plugin/model/safetensors-file.js';
import {tempCacheDir} from '../frame-cache/cache-test-helpers.js';

const cacheDir = tempCacheDir('inversion-finite');
const shape = [1, 4, 2, 2];
const latent = (value: number) => new Float32Array(16).fill(value);
const inversion = (bad: number | null) => ({
	latents: [latent(0.1), bad === null ? latent(0.2) : Object.assign(latent(0.2), {5: bad})],
	timesteps: [1],
	chunks: [{batch: {frames: [0], references: [[0]]} as never, maskMaps: [new Float32Array(4)], stored: null}],
});

describe('no NaN/Inf inversion is published or built upon (issue 16)', () => {
	it('writing an inversion with NaN fails naming the stage, and publishes nothing', async () => {
		const error = await getOrCompute({
			cacheDir,
			kind: 'inversions',
			key: 'nan1',
			compute: async (_dir, writer) => ({keyInputs: {}, data: (await writeInversionEntry(writer, inversion(Number.NaN) as never, shape)).data}),
		}).catch((e: unknown) => e);
		expect(isFateZeroError(error, 'INFERENCE_FAILED'), String(error)).toBe(true);
		expect((error as Error).message).toMatch(/^The inversion stage produced 1 non-finite value .* in the inverted latents of step 1/);
		expect(await readEntry(cacheDir, 'inversions', 'nan1')).toBeNull();
	});

	it('a cached inversion holding Infinity (valid checksums) is refused, not edited into a black clip', async () => {
		const entry = await getOrCompute({
			cacheDir,
			kind: 'inversions',
			key: 'inf1',
			compute: async (_dir, writer) => {
				const bytes = new Uint8Array(Float32Array.from([...latent(0), ...latent(Number.POSITIVE_INFINITY)]).buffer);
				await writer.writeFile('inversion.safetensors', encodeSafetensors({latents: {dtype: 'F32', shape: [2, ...shape], bytes}, 'chunk0.mask_maps': {dtype: 'F32', shape: [1, 4], bytes: new Uint8Array(16)}}));
				return {keyInputs: {}, data: {timesteps: [1], chunks: [{frames: [0]}]}};
			},
		});
		const error = (() => {
			try {
				readInversionEntry(entry.path, entry.manifest.data);
			} catch (e) {
				return e;
			}
			return null;
		})();
		expect(isFateZeroError(error, 'CACHE_CORRUPT'), String(error)).toBe(true);
		expect((error as Error).message).toContain(path.join(entry.path, 'inversion.safetensors'));
	});

	it('a finite inversion round-trips', async () => {
		const entry = await getOrCompute({
			cacheDir,
			kind: 'inversions',
			key: 'ok1',
			compute: async (_dir, writer) => ({keyInputs: {}, data: (await writeInversionEntry(writer, inversion(null) as never, shape)).data}),
		});
		expect(readInversionEntry(entry.path, entry.manifest.data).latents[1][5]).toBeCloseTo(0.2);
	});
});
