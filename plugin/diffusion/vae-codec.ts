import {concatFloat32, float32Tensor} from '../runtime/host-tensor.js';
import type {RunnableSession} from './runnable-session.js';

export type VaeCodecOptions = {
	/** Frames per VAE call; the VAE is per-frame, so this only trades memory for call overhead. Default 1. */
	framesPerCall?: number;
	/** Latent scaling factor (0.18215 for SD-1.x). */
	scalingFactor: number;
};

/**
 * z0 = scalingFactor · mean of the VAE posterior for each frame. FateZero samples the posterior
 * (`latent_dist.sample()`); we take its mean so an edit is reproducible (fatezero-spec §8 item 9;
 * the golden data does the same).
 * pixels [N, 3, H, W] in [-1, 1] -> latents [N, 4, H/8, W/8].
 */
export const encodeFrames = async (
	encoder: RunnableSession,
	pixels: Float32Array,
	[count, channels, height, width]: [number, number, number, number],
	options: VaeCodecOptions,
): Promise<{latents: Float32Array; latentShape: [number, number, number, number]}> => {
	const perCall = options.framesPerCall ?? 1;
	const frameSize = channels * height * width;
	const parts: Float32Array[] = [];
	let latentShape: [number, number, number, number] = [count, 0, 0, 0];
	for (let start = 0; start < count; start += perCall) {
		const n = Math.min(perCall, count - start);
		const input = pixels.subarray(start * frameSize, (start + n) * frameSize);
		const {mean} = await encoder.run({sample: float32Tensor(input.slice(), [n, channels, height, width])});
		latentShape = [count, mean.dims[1], mean.dims[2], mean.dims[3]];
		parts.push(mean.data as Float32Array);
	}
	const latents = concatFloat32(parts);
	for (let i = 0; i < latents.length; i++) latents[i] *= options.scalingFactor;
	return {latents, latentShape};
};

/**
 * Frames from latents as the pipeline's decode_latents: x = D(z / scalingFactor), then
 * (x / 2 + 0.5) clamped to [0, 1], laid out [N, H, W, 3] for image writers.
 */
export const decodeLatents = async (
	decoder: RunnableSession,
	latents: Float32Array,
	[count, channels, height, width]: [number, number, number, number],
	options: VaeCodecOptions,
): Promise<{frames: Float32Array; height: number; width: number}> => {
	const perCall = options.framesPerCall ?? 1;
	const latentSize = channels * height * width;
	const parts: Float32Array[] = [];
	let outHeight = 0;
	let outWidth = 0;
	for (let start = 0; start < count; start += perCall) {
		const n = Math.min(perCall, count - start);
		const input = Float32Array.from(latents.subarray(start * latentSize, (start + n) * latentSize), (v) => v / options.scalingFactor);
		const {sample} = await decoder.run({latent: float32Tensor(input, [n, channels, height, width])});
		const [, c, h, w] = sample.dims;
		outHeight = h;
		outWidth = w;
		const data = sample.data as Float32Array;
		// [n, 3, H, W] -> [n, H, W, 3], mapped from [-1, 1] to [0, 1]
		const hwc = new Float32Array(data.length);
		for (let f = 0; f < n; f++) {
			for (let ch = 0; ch < c; ch++) {
				for (let p = 0; p < h * w; p++) {
					const value = data[(f * c + ch) * h * w + p] / 2 + 0.5;
					hwc[(f * h * w + p) * c + ch] = Math.min(Math.max(value, 0), 1);
				}
			}
		}
		parts.push(hwc);
	}
	return {frames: concatFloat32(parts), height: outHeight, width: outWidth};
};
