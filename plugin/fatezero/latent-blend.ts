import {computeBlendMask} from './blend-mask.js';

/**
 * Whether editing step i applies FateZero's optional latent blend: SpatialBlender(start_blend=0.2,
 * end_blend=0.8) acts when int(0.2·N) < cur_step < int(0.8·N), with cur_step = i + 1 (the
 * controller counts steps after the scheduler step).
 */
export const latentBlendActive = (step: number, steps: number): boolean => {
	const current = step + 1;
	return Math.floor(0.2 * steps) < current && current < Math.floor(0.8 * steps);
};

export type LatentBlendInput = {
	/** The edited latents of the batch after the DDIM step. [F, C, h, w] */
	latents: Float32Array;
	/**
	 * The inverted latents the official code blends towards: latents_store[N − cur_step], i.e.
	 * inversion.latents[N − i] — one noise level off (fatezero-spec §1.5); reproduced as written.
	 */
	inverted: Float32Array;
	frames: number;
	channels: number;
	height: number;
	width: number;
	/** Source mask maps of store step N−1−i and the target's maps summed over the edit so far. [F, Qm, 77] */
	sourceMaps: Float32Array;
	targetMaps: Float32Array;
	mapHeight: number;
	mapWidth: number;
	/** SpatialBlender alpha rows: row 0 for the source prompt, row 1 for the target. [2, 77] */
	alphaRows: Float32Array;
	threshold: number;
};

/**
 * z ← z_inv + M ⊙ (z − z_inv) with M = mask(source maps, source words) OR mask(target maps, target
 * words) at the latent resolution (prompt_choose 'both'): outside the edited object the latent
 * goes back to the inversion's, keeping the background (spec §2.6).
 */
export const applyLatentBlend = (input: LatentBlendInput): Float32Array => {
	const {frames, channels, height, width} = input;
	const common = {frames, mapHeight: input.mapHeight, mapWidth: input.mapWidth, threshold: input.threshold, outHeight: height, outWidth: width};
	const source = computeBlendMask({...common, maps: input.sourceMaps, alpha: input.alphaRows.subarray(0, 77)}).mask;
	const target = computeBlendMask({...common, maps: input.targetMaps, alpha: input.alphaRows.subarray(77, 154)}).mask;
	const plane = height * width;
	const out = new Float32Array(input.latents.length);
	for (let f = 0; f < frames; f++) {
		for (let c = 0; c < channels; c++) {
			for (let p = 0; p < plane; p++) {
				const i = (f * channels + c) * plane + p;
				const keep = source[f * plane + p] > 0 || target[f * plane + p] > 0;
				out[i] = keep ? input.latents[i] : input.inverted[i];
			}
		}
	}
	return out;
};
