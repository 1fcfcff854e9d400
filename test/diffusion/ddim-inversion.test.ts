import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {compileModelGraphs, validateModelWeights} from '../../plugin/graph/compile-model-graphs.js';
import {readModelFolder} from '../../plugin/model/read-model-folder.js';
import {createOrtSession, type OrtSession} from '../../plugin/runtime/ort-session.js';
import {loadClipTokenizer} from '../../plugin/diffusion/load-clip-tokenizer.js';
import {DdimScheduler} from '../../plugin/diffusion/ddim-scheduler.js';
import {encodePrompts} from '../../plugin/diffusion/encode-prompts.js';
import {encodeFrames} from '../../plugin/diffusion/vae-codec.js';
import {invertLatents} from '../../plugin/diffusion/ddim-inversion.js';
import {sampleLatents} from '../../plugin/diffusion/ddim-sampling.js';
import {referenceFrameTable} from '../../plugin/clip/reference-frames.js';
import {GoldenFile, goldenDir, goldenSkipReason, hasGolden, maxAbsDiff, relativeError} from '../helpers/golden.js';

/** [1, c, f, h, w] (FateZero) -> [f, c, h, w] (ours). */
const framesFirst = (x: Float32Array, c: number, f: number, hw: number) => {
	const out = new Float32Array(x.length);
	for (let ci = 0; ci < c; ci++) for (let fi = 0; fi < f; fi++) for (let p = 0; p < hw; p++) out[(fi * c + ci) * hw + p] = x[(ci * f + fi) * hw + p];
	return out;
};

const rmse = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length);

describe.skipIf(!hasGolden)(`DDIM inversion and reconstruction of car-turn on the tiny model vs the official FateZero run${hasGolden ? '' : ` (${goldenSkipReason})`}`, () => {
	const sourcePrompt = 'a silver jeep driving down a curvy road in the countryside';
	const golden = hasGolden ? new GoldenFile('e2e/style_mid_th1024/inversion.safetensors') : null;
	const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'fatezero-graphs-'));
	const sessions: OrtSession[] = [];
	let unet: OrtSession;
	let vaeEncoder: OrtSession;
	let textEncoder: OrtSession;
	let scheduler: DdimScheduler;
	let z0: Float32Array;
	let sourceText: Float32Array;
	let emptyText: Float32Array;
	const latentShape: [number, number, number, number] = [4, 4, 16, 16];
	// official run: model_config SparseCausalAttention_index ['mid'], least_sc_channel 64
	const referenceFrames = referenceFrameTable(['mid'], 4);

	beforeAll(async () => {
		const model = readModelFolder(path.join(goldenDir, 'tiny-sd'));
		validateModelWeights(model);
		const specs = compileModelGraphs(model, cacheDir, {unet: {referenceFramesMinChannels: 64}});
		[unet, vaeEncoder, textEncoder] = await Promise.all([specs.unet, specs.vaeEncoder, specs.textEncoder].map((s) => createOrtSession(s)));
		sessions.push(unet, vaeEncoder, textEncoder);
		scheduler = new DdimScheduler(model.scheduler.config);
		const tokenizer = await loadClipTokenizer(model.tokenizerDir);
		const text = await encodePrompts(textEncoder, tokenizer, ['', sourcePrompt]);
		emptyText = text.states.slice(0, 77 * 32);
		sourceText = text.states.slice(77 * 32);
		const pixels = golden!.float('images_input');
		z0 = (await encodeFrames(vaeEncoder, pixels.data, [4, 3, 128, 128], {scalingFactor: model.vae.config.scalingFactor})).latents;
	});
	afterAll(async () => {
		await Promise.all(sessions.map((s) => s.dispose()));
		rmSync(cacheDir, {recursive: true, force: true});
	});

	it('prompt embeddings ["", source] match within 1e-4 relative', () => {
		const reference = golden!.float('text_embeddings').data;
		const error = relativeError([...emptyText, ...sourceText], reference);
		console.log(`text embeddings: relative error ${error.toExponential(2)}`);
		expect(error).toBeLessThan(1e-4);
	});

	it('z0 = 0.18215 · VAE mean matches within 1e-4 absolute', () => {
		const reference = framesFirst(golden!.float('z0').data, 4, 4, 256);
		const diff = maxAbsDiff(z0, reference);
		console.log(`z0: max abs diff ${diff.toExponential(2)}`);
		expect(diff).toBeLessThan(1e-4);
	});

	it('every inverted latent and every UNet ε of the 10 inversion steps match', async () => {
		const refLatents = golden!.float('inverted_latents').data;
		const refEps = golden!.float('inversion_unet_eps').data;
		const stepSize = 4 * 4 * 256;
		// Start from the golden z0 so each step's error is the inversion's own, not the VAE's.
		const epsPerStep: Float32Array[] = [];
		const realUnet = {label: unet.label, run: async (feeds: Parameters<OrtSession['run']>[0]) => {
			const out = await unet.run(feeds);
			epsPerStep.push(out.noise_pred.data as Float32Array);
			return out;
		}};
		const {latents, timesteps} = await invertLatents({
			unet: realUnet,
			scheduler,
			latents: framesFirst(refLatents.subarray(0, stepSize), 4, 4, 256),
			latentShape,
			sourceText,
			textShape: [1, 77, 32],
			referenceFrames,
			steps: 10,
		});
		expect(timesteps).toEqual([1, 101, 201, 301, 401, 501, 601, 701, 801, 901]);
		let worstLatent = 0;
		let worstEps = 0;
		for (let k = 1; k <= 10; k++) {
			const ref = framesFirst(refLatents.subarray(k * stepSize, (k + 1) * stepSize), 4, 4, 256);
			worstLatent = Math.max(worstLatent, maxAbsDiff(latents[k], ref));
			const refE = framesFirst(refEps.subarray((k - 1) * stepSize, k * stepSize), 4, 4, 256);
			worstEps = Math.max(worstEps, relativeError(epsPerStep[k - 1], refE));
		}
		console.log(`inversion: worst latent max abs diff ${worstLatent.toExponential(2)}, worst ε relative error ${worstEps.toExponential(2)}`);
		expect(worstLatent).toBeLessThan(2e-4);
		expect(worstEps).toBeLessThan(1e-4);
	});

	it.each([
		{guidance: 1, expected: 1.113302230834961},
		{guidance: 7.5, expected: 2.2694125175476074},
	])('plain DDIM reconstruction from z_T with guidance $guidance lands where the official one does (final-vs-z0 RMSE $expected)', async ({guidance, expected}) => {
		const zT = framesFirst(golden!.float('zT').data, 4, 4, 256);
		const reference = framesFirst(golden!.float('z0').data, 4, 4, 256);
		const final = await sampleLatents({
			unet,
			scheduler,
			latents: zT,
			latentShape,
			text: sourceText,
			unconditionalText: emptyText,
			textShape: [1, 77, 32],
			guidance,
			referenceFrames,
			steps: 10,
		});
		const value = rmse(final, reference);
		console.log(`reconstruction guidance ${guidance}: RMSE vs z0 ${value.toFixed(6)} (official ${expected.toFixed(6)})`);
		expect(Math.abs(value - expected) / expected).toBeLessThan(1e-4);
	});
});
