import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';
import {loadFateZero, type FateZeroEngine} from '../../plugin/fatezero/load-fatezero.js';
import {runFateZero} from '../../plugin/fatezero/run-fatezero.js';
import {applyLatentBlend, latentBlendActive} from '../../plugin/fatezero/latent-blend.js';
import {planChunks} from '../../plugin/fatezero/chunk-plan.js';
import {psnr} from '../../plugin/media/psnr.js';
import {FateZeroError} from '../../plugin/errors/fatezero-error.js';
import {seededNormal} from '../../plugin/model/random-weights.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-run-'));
const modelDir = generateRandomModel({dir: path.join(root, 'model')}).dir;
let engine: FateZeroEngine;
const size = 64;
// smooth synthetic frames in [-1, 1]: a moving gradient
const frames = (count: number) => {
	const plane = size * size;
	const out = new Float32Array(count * 3 * plane);
	for (let f = 0; f < count; f++) for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) out[(f * 3 + c) * plane + p] = Math.sin((p % size) / 9 + f / 3 + c) * 0.8;
	return out;
};
const source = 'a silver jeep driving down a curvy road';

beforeAll(async () => {
	engine = await loadFateZero({modelDir, cacheDir: path.join(root, 'cache'), sizeInPixels: size, leastScChannel: 64});
});
afterAll(async () => {
	await engine?.dispose();
	rmSync(root, {recursive: true, force: true});
});

describe('runFateZero on the generated tiny model', () => {
	it('edits several prompts at once; chunking reports its deviation from the full batch', async () => {
		const pixels = frames(8);
		const edits = [{prompt: 'watercolor painting of a silver jeep driving down a curvy road', reweight: {words: 'watercolor', values: 10}}, {prompt: 'a red jeep driving down a curvy road', blendWords: [['silver'], ['red']]}];
		const full = await runFateZero({engine, pixels, frameCount: 8, sourcePrompt: source, edits, steps: 4});
		expect(full.chunkSizeInFrames).toBe(8);
		expect(full.edited.map((e) => e.controller)).toEqual(['refine', 'replace']);
		expect(full.edited[0].frames).toHaveLength(8 * size * size * 3);
		const chunked = await runFateZero({engine, pixels, frameCount: 8, sourcePrompt: source, edits, steps: 4, chunkSizeInFrames: 4});
		expect(chunked.chunkSizeInFrames).toBe(4);
		const deviation = psnr(chunked.edited[0].frames!, full.edited[0].frames!);
		// random weights amplify small differences; real-model figures are in the README
		console.log(`tiny random model, chunks of 4 vs full batch of 8 frames: PSNR ${deviation.toFixed(1)} dB`);
		expect(deviation).toBeGreaterThan(12);
		expect(deviation).toBeLessThan(Number.POSITIVE_INFINITY); // per-chunk norm statistics do change the result
		// one chunk with every frame is exactly the full batch
		const single = await runFateZero({engine, pixels, frameCount: 8, sourcePrompt: source, edits, steps: 4, chunkSizeInFrames: 8, decode: false});
		expect(single.edited[1].latents).toEqual(full.edited[1].latents);
	});

	it('chunks are exact where the statistics agree: duplicated halves with per-frame attention', async () => {
		const half = frames(4);
		const pixels = new Float32Array(half.length * 2);
		pixels.set(half);
		pixels.set(half, half.length);
		const edits = [{prompt: 'a red jeep driving down a curvy road', blendWords: [['silver'], ['red']]}];
		const options = {engine, pixels, frameCount: 8, sourcePrompt: source, edits, steps: 3, attention: [0], decode: false};
		const full = await runFateZero(options);
		const chunked = await runFateZero({...options, chunkSizeInFrames: 4});
		const diff = full.edited[0].latents.reduce((m, v, i) => Math.max(m, Math.abs(v - chunked.edited[0].latents[i])), 0);
		expect(diff).toBeLessThan(1e-4);
	});

	it('chooses the chunk size from the memory budget and refuses a budget nothing fits', async () => {
		const pixels = frames(8);
		const small = await runFateZero({engine, pixels, frameCount: 8, sourcePrompt: source, edits: [{prompt: 'a red jeep driving down a curvy road'}], steps: 2, memoryBudgetInMegabytes: 3, decode: false});
		expect(small.chunkSizeInFrames).toBeLessThan(8);
		await expect(runFateZero({engine, pixels, frameCount: 8, sourcePrompt: source, edits: [{prompt: 'x'}], steps: 2, memoryBudgetInMegabytes: 0.01})).rejects.toThrow(/memoryBudgetInMegabytes is 0/);
		await expect(runFateZero({engine, pixels, frameCount: 8, sourcePrompt: source, edits: [{prompt: 'x'}], steps: 2, memoryBudgetInMegabytes: 3, chunkSizeInFrames: 8})).rejects.toThrow(/chunkSizeInFrames 8 needs about \d+ MB .* Lower the chunk size/);
	});

	it('rejects bad inputs with clear errors and stops on abort', async () => {
		const pixels = frames(2);
		const expectCode = async (promise: Promise<unknown>, code: string, pattern: RegExp) => {
			const error = await promise.then(() => null, (e: unknown) => e);
			expect(error).toBeInstanceOf(FateZeroError);
			expect((error as FateZeroError).code).toBe(code);
			expect((error as FateZeroError).message).toMatch(pattern);
		};
		await expectCode(runFateZero({engine, pixels, frameCount: 0, sourcePrompt: source, edits: [{prompt: 'a'}]}), 'INVALID_INPUT', /at least one/);
		await expectCode(runFateZero({engine, pixels, frameCount: 2, sourcePrompt: source, edits: []}), 'INVALID_OPTION', /edits is empty/);
		await expectCode(runFateZero({engine, pixels: new Float32Array(10), frameCount: 2, sourcePrompt: source, edits: [{prompt: 'a'}]}), 'INVALID_INPUT', /need 24576/);
		await expectCode(runFateZero({engine, pixels, frameCount: 2, sourcePrompt: source, edits: [{prompt: 'a b', selfReplace: [0.8, 0.2]}]}), 'INVALID_OPTION', /selfReplace/);
		await expectCode(runFateZero({engine, pixels, frameCount: 2, sourcePrompt: source, edits: [{prompt: 'a b', crossReplace: Number.NaN}]}), 'INVALID_OPTION', /crossReplace/);
		const controller = new AbortController();
		const run = runFateZero({engine, pixels, frameCount: 2, sourcePrompt: source, edits: [{prompt: 'a red jeep'}], steps: 20, signal: controller.signal, onProgress: ({stage, step}) => stage === 'invert' && step === 2 && controller.abort()});
		await expect(run).rejects.toThrow(/abort/i);
	});

	it('loadFateZero refuses a size the UNet cannot halve', async () => {
		await expect(loadFateZero({modelDir, cacheDir: path.join(root, 'cache'), sizeInPixels: 100})).rejects.toThrow(/multiple of 32 .*Try 96/);
	});
});

describe('latent blend (spec §2.6)', () => {
	it('acts only for int(0.2N) < i+1 < int(0.8N)', () => {
		expect([...Array(10).keys()].filter((i) => latentBlendActive(i, 10))).toEqual([2, 3, 4, 5, 6]);
		expect([...Array(50).keys()].filter((i) => latentBlendActive(i, 50))).toHaveLength(29);
	});

	it('keeps the edit inside the source-or-target mask and the inversion latent outside', () => {
		const maps = new Float32Array(1 * 4 * 77); // 1 frame, 2×2 map
		maps[0 * 77 + 5] = 1; // source word (token 5) at pixel 0
		const targetMaps = new Float32Array(1 * 4 * 77);
		targetMaps[3 * 77 + 6] = 1; // target word (token 6) at pixel 3
		const rows = new Float32Array(154);
		rows[5] = 1;
		rows[77 + 6] = 1;
		const latents = seededNormal(1, 'z', 1 * 4 * 4 * 4);
		const inverted = seededNormal(2, 'inv', latents.length);
		const out = applyLatentBlend({latents, inverted, frames: 1, channels: 4, height: 4, width: 4, sourceMaps: maps, targetMaps, mapHeight: 2, mapWidth: 2, alphaRows: rows, threshold: 0.5});
		// 2×2 maps max-pool to cover everything, so a 1-pixel mark spreads: both masks are all ones here
		expect(out).toEqual(latents);
		const none = applyLatentBlend({latents, inverted, frames: 1, channels: 4, height: 4, width: 4, sourceMaps: new Float32Array(308), targetMaps: new Float32Array(308), mapHeight: 2, mapWidth: 2, alphaRows: rows, threshold: 0.5});
		expect(none).toEqual(inverted); // 0/0 = NaN: no mask, back to the inversion everywhere
	});
});

describe('planChunks', () => {
	it("carries the reference frames each chunk reads, in lockstep order", () => {
		const mid = planChunks(8, 3, ['mid']);
		expect(mid.map((c) => c.frames)).toEqual([[0, 1, 2, 3], [3, 4, 5], [6, 7, 8 - 5]]);
		expect(mid[0].referenceFrames).toEqual([[3, 3, 3, 3]]);
		const firstPrev = planChunks(6, 3, [-1, 'first']);
		expect(firstPrev[1].frames).toEqual([3, 4, 5, 0, 2]);
		expect(firstPrev[1].ownCount).toBe(3);
		expect(firstPrev[1].referenceFrames).toEqual([[4, 0, 1, 3, 4], [3, 3, 3, 3, 3]]);
	});
});
