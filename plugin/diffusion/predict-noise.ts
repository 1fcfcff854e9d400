import {FateZeroError} from '../errors/fatezero-error.js';
import {UNET_IO} from '../graph/unet-graph.js';
import {float32Tensor, int64Tensor} from '../runtime/host-tensor.js';
import type {RunnableSession} from './runnable-session.js';

export type NoisePredictionInput = {
	/** [N, 4, h, w], N = clips × frames, clip-major. */
	latents: Float32Array;
	latentShape: [number, number, number, number];
	timestep: number;
	/** [N, 77, D]: the text states of each batch entry (see repeatPerFrame). */
	text: Float32Array;
	textShape: [number, number, number];
	/** [R][F] reference-frame table (fatezero/reference-frames.ts); F = frames per clip. */
	referenceFrames: number[][];
};

/** One UNet call: ε_θ(z_t, t, c) for every frame of every clip in the batch. */
export const predictNoise = async (unet: RunnableSession, input: NoisePredictionInput): Promise<Float32Array> => {
	const [n] = input.latentShape;
	const frames = input.referenceFrames[0]?.length ?? 0;
	if (frames < 1 || n % frames !== 0 || input.textShape[0] !== n) {
		throw new FateZeroError(
			'INVALID_INPUT',
			`UNet batch mismatch: ${n} latents, ${input.textShape[0]} text rows, ${frames} frames per clip. The batch must hold whole clips with one text row per frame.`,
		);
	}
	const out = await unet.run({
		[UNET_IO.sample]: float32Tensor(input.latents, [...input.latentShape]),
		[UNET_IO.timestep]: float32Tensor(new Float32Array([input.timestep]), [1]),
		[UNET_IO.encoderHiddenStates]: float32Tensor(input.text, [...input.textShape]),
		[UNET_IO.referenceFrames]: int64Tensor(input.referenceFrames.flat(), [input.referenceFrames.length, frames]),
	});
	return out[UNET_IO.noisePred].data as Float32Array;
};

/** Repeats each row block `times` times: [P, ...] -> [P·times, ...] (one text row per frame). */
export const repeatPerFrame = (rows: Float32Array, rowCount: number, times: number): Float32Array => {
	const rowSize = rows.length / rowCount;
	const out = new Float32Array(rows.length * times);
	for (let r = 0; r < rowCount; r++) {
		const row = rows.subarray(r * rowSize, (r + 1) * rowSize);
		for (let t = 0; t < times; t++) out.set(row, (r * times + t) * rowSize);
	}
	return out;
};
