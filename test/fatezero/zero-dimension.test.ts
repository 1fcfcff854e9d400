import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {generateRandomModel} from '../../plugin/model-generator/generate-random-model.js';
import {profileFateZeroGraphs} from '../../plugin/fatezero/profile-fatezero-graphs.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fatezero-zero-dim-'));
const modelDir = generateRandomModel({dir: path.join(root, 'model')}).dir;
afterAll(() => rmSync(root, {recursive: true, force: true}));

// CUDA's attention kernels take the batch as a grid dimension and have no early exit for 0: an
// empty tensor anywhere in a graph run is a GPU failure waiting to happen, even if the CPU copes.
describe('no graph run feeds a node an empty tensor', () => {
	for (const attentionSource of ['recompute', 'stored'] as const) {
		it(`${attentionSource}: text encoder, VAE, inversion and editing with masks and latent blend, under ORT profiling`, async () => {
			const profiles = await profileFateZeroGraphs({modelDir, cacheDir: path.join(root, 'cache'), profileDir: path.join(root, 'profiles'), attentionSource, sizeInPixels: 64, frameCount: 2, steps: 2});
			expect(profiles.map((p) => p.graph)).toEqual(['text-encoder', 'vae-encoder', 'unet', 'vae-decoder']);
			const unet = profiles.find((p) => p.graph === 'unet')!;
			// the run went through the fused layers: attention kernels, explicit maps and the edit's MatMuls
			const ops = new Set(unet.nodes.map((n) => n.opType));
			for (const op of ['MultiHeadAttention', 'Softmax', 'MatMul', 'Conv']) expect(ops).toContain(op);
			// every node input's shape was recorded (otherwise the check below proves nothing)
			expect(unet.nodes.every((n) => n.inputShapes.length > 0 || n.opType === 'Constant')).toBe(true);
			for (const profile of profiles) {
				expect(profile.report.zeroDimensionInputs.slice(0, 5), `${profile.graph}: nodes with an empty input`).toEqual([]);
				expect(profile.report.heavyNodesOnCpu).toEqual([]); // CPU provider: nothing to fall back from
			}
		});
	}
});
