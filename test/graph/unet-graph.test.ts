import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {readModelFolder} from '../../plugin/model/read-model-folder.js';
import {readSafetensorsIndex} from '../../plugin/model/safetensors-file.js';
import {GraphBuilder} from '../../plugin/graph/onnx-graph-builder.js';
import {WeightBinder} from '../../plugin/graph/weight-binder.js';
import {buildUnetGraph, UNET_IO, type UnetGraphOptions} from '../../plugin/graph/unet-graph.js';
import {createOrtSession, type OrtSession} from '../../plugin/runtime/ort-session.js';
import {float32Tensor, int64Tensor} from '../../plugin/runtime/host-tensor.js';
import {GoldenFile, goldenDir, goldenSkipReason, hasGolden, relativeError} from '../helpers/golden.js';

const weightsFile = () => path.join(goldenDir, 'tiny-sd/unet/diffusion_pytorch_model.safetensors');

const buildSession = async (options: UnetGraphOptions): Promise<OrtSession> => {
	const b = new GraphBuilder('unet');
	const index = readSafetensorsIndex(weightsFile());
	const w = new WeightBinder(b, [{location: 'unet.safetensors', index}], 'float32');
	// the golden tiny UNet's config.json through the reader (its own tests check the parsed values)
	const config = readModelFolder(path.join(goldenDir, 'tiny-sd')).unet.config;
	buildUnetGraph({b, w, computeType: 'float32'}, config, options);
	const problems = w.report();
	expect(problems).toEqual({missing: [], mismatched: [], extra: []});
	return createOrtSession({label: 'unet', graph: b.toBytes(), externalData: [{location: 'unet.safetensors', file: weightsFile()}]});
};

/** [b, c, f, h, w] -> [b·f, c, h, w] (FateZero's layout to ours) and back. */
const framesFirst = (x: Float32Array, [b, c, f, h, w]: number[]) => {
	const out = new Float32Array(x.length);
	for (let bi = 0; bi < b; bi++)
		for (let ci = 0; ci < c; ci++)
			for (let fi = 0; fi < f; fi++)
				for (let p = 0; p < h * w; p++) out[(((bi * f + fi) * c + ci) * h * w) + p] = x[(((bi * c + ci) * f + fi) * h * w) + p];
	return out;
};

describe.skipIf(!hasGolden)(`UNet graph vs the official diffusers/FateZero UNet${hasGolden ? '' : ` (${goldenSkipReason})`}`, () => {
	describe('2-D UNet (every frame its own clip)', () => {
		let session: OrtSession;
		const golden = hasGolden ? new GoldenFile('components/unet2d.safetensors') : null;
		beforeAll(async () => {
			session = await buildSession({referenceFramesMinChannels: null});
		});
		afterAll(() => session?.dispose());

		it.each([981, 501, 1])('t=%i within 1e-4 relative', async (t) => {
			const sample = golden!.float('sample');
			const text = golden!.float('encoder_hidden_states');
			const out = await session.run({
				[UNET_IO.sample]: float32Tensor(sample.data, sample.shape),
				[UNET_IO.timestep]: float32Tensor(new Float32Array([t]), [1]),
				[UNET_IO.encoderHiddenStates]: float32Tensor(text.data, text.shape),
				[UNET_IO.referenceFrames]: int64Tensor([0], [1, 1]),
			});
			const error = relativeError(out[UNET_IO.noisePred].data as Float32Array, golden!.float(`out.t${t}`).data);
			console.log(`unet2d t=${t}: relative error ${error.toExponential(2)}`);
			expect(error).toBeLessThan(1e-4);
		});
	});

	describe.each([
		// FateZero configs: ['mid'] with least_sc_channel 64 -> frame (F-1)//2 = 1 in the 64-channel levels
		{name: 'mid_lsc64', minChannels: 64, refs: [[1, 1, 1, 1]]},
		// default [-1, 'first']: previous frame (clamped) then frame 0, at every level
		{name: 'default_first_prev', minChannels: 0, refs: [[0, 0, 1, 2], [0, 0, 0, 0]]},
	])('inflated UNet on a 4-frame clip, $name', ({name, minChannels, refs}) => {
		let session: OrtSession;
		const golden = hasGolden ? new GoldenFile('components/unet3d.safetensors') : null;
		beforeAll(async () => {
			session = await buildSession({referenceFramesMinChannels: minChannels});
		});
		afterAll(() => session?.dispose());

		it.each([981, 1])('t=%i within 1e-4 relative', async (t) => {
			const sample = golden!.float('sample');
			const text = golden!.float('encoder_hidden_states');
			const frames = 4;
			const perFrameText = new Float32Array(frames * text.data.length);
			for (let f = 0; f < frames; f++) perFrameText.set(text.data, f * text.data.length);
			const out = await session.run({
				[UNET_IO.sample]: float32Tensor(framesFirst(sample.data, sample.shape), [frames, 4, 16, 16]),
				[UNET_IO.timestep]: float32Tensor(new Float32Array([t]), [1]),
				[UNET_IO.encoderHiddenStates]: float32Tensor(perFrameText, [frames, 77, 32]),
				[UNET_IO.referenceFrames]: int64Tensor(refs.flat(), [refs.length, frames]),
			});
			const reference = golden!.float(`${name}.out.t${t}`);
			const error = relativeError(out[UNET_IO.noisePred].data as Float32Array, framesFirst(reference.data, reference.shape));
			console.log(`unet3d ${name} t=${t}: relative error ${error.toExponential(2)}`);
			expect(error).toBeLessThan(1e-4);
		});
	});
});
