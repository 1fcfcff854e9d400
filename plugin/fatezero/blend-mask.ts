export type BlendMaskInput = {
	/** [F, h·w, 77]: source cross-attention of the mask layers, mean over layers and heads. */
	maps: Float32Array;
	frames: number;
	mapHeight: number;
	mapWidth: number;
	/** [77]: 1 at the tokens of the blend words (SpatialBlender alpha_layers row). */
	alpha: Float32Array;
	/** blend_th[0]: pixels whose normalised map exceeds it keep the edit's self-attention. */
	threshold: number;
	outHeight: number;
	outWidth: number;
};

/**
 * SpatialBlender.get_mask (fatezero-spec §2.5), step by step as the official code orders it:
 * sum the maps over the blend tokens, 3×3 max-pool (stride 1, pad 1), nearest resize to the
 * layer's grid, divide by each frame's maximum, threshold with `>`. A blend word absent from the
 * prompt makes every map 0, 0/0 = NaN, and NaN > th is false: the mask is all 0 (source
 * self-attention everywhere), exactly as the official code behaves.
 * Returns the normalised map and the mask, both [F, outHeight·outWidth].
 */
export const computeBlendMask = (input: BlendMaskInput): {normalized: Float32Array; mask: Float32Array} => {
	const {maps, frames, mapHeight: h, mapWidth: w, alpha, outHeight: oh, outWidth: ow} = input;
	const tokens = [...alpha.keys()].filter((i) => alpha[i] !== 0);
	const normalized = new Float32Array(frames * oh * ow);
	const mask = new Float32Array(frames * oh * ow);
	const summed = new Float32Array(h * w);
	const pooled = new Float32Array(h * w);
	const resized = new Float32Array(oh * ow);
	for (let f = 0; f < frames; f++) {
		// 1. Σ over blend tokens: [h·w]
		for (let p = 0; p < h * w; p++) {
			let sum = 0;
			const row = (f * h * w + p) * 77;
			for (const token of tokens) sum = Math.fround(sum + Math.fround(maps[row + token] * alpha[token]));
			summed[p] = sum;
		}
		// 2. max_pool2d 3×3, stride 1, padding 1 (padding never wins)
		for (let y = 0; y < h; y++) {
			for (let x = 0; x < w; x++) {
				let best = Number.NEGATIVE_INFINITY;
				for (let dy = -1; dy <= 1; dy++) {
					for (let dx = -1; dx <= 1; dx++) {
						const yy = y + dy;
						const xx = x + dx;
						if (yy >= 0 && yy < h && xx >= 0 && xx < w) best = Math.max(best, summed[yy * w + xx]);
					}
				}
				pooled[y * w + x] = best;
			}
		}
		// 3. F.interpolate(mode='nearest'): source index floor(dst · in/out)
		let max = Number.NEGATIVE_INFINITY;
		for (let y = 0; y < oh; y++) {
			const sy = Math.min(Math.floor((y * h) / oh), h - 1);
			for (let x = 0; x < ow; x++) {
				const sx = Math.min(Math.floor((x * w) / ow), w - 1);
				resized[y * ow + x] = pooled[sy * w + sx];
				max = Math.max(max, resized[y * ow + x]);
			}
		}
		// 4. per-frame normalisation and threshold (NaN > th is false)
		for (let p = 0; p < oh * ow; p++) {
			const value = Math.fround(resized[p] / max);
			normalized[f * oh * ow + p] = value;
			mask[f * oh * ow + p] = value > input.threshold ? 1 : 0;
		}
	}
	return {normalized, mask};
};
