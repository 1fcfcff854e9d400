/**
 * Filter taps of PyTorch's `F.interpolate(mode='bilinear', antialias=True, align_corners=False)` along one
 * axis (ATen `_compute_indices_min_size_weights_aa`, the PIL-style triangle filter widened by the
 * downscale factor). FateZero resizes with exactly this, so computing it ourselves (instead of a
 * libvips kernel, which pre-shrinks with a box filter) keeps imported frames equal to the official ones.
 */
export type AxisTaps = {
	/** First input index read by each output index. */
	first: Int32Array;
	/** Number of input indices read by each output index. */
	count: Int32Array;
	/** `maxTaps` normalised weights per output index (unused slots are 0). */
	weights: Float64Array;
	maxTaps: number;
};

const triangle = (x: number): number => {
	const a = Math.abs(x);
	return a < 1 ? 1 - a : 0;
};

/**
 * Taps for output indices `outStart … outStart + outCount - 1` of a resize from `inSize` to `outSize`
 * samples (only the part a later crop keeps needs computing).
 */
export const antialiasBilinearTaps = (inSize: number, outSize: number, outStart = 0, outCount = outSize - outStart): AxisTaps => {
	const scale = inSize / outSize;
	const support = scale >= 1 ? scale : 1;
	const invScale = scale >= 1 ? 1 / scale : 1;
	const maxTaps = Math.ceil(support) * 2 + 1;
	const first = new Int32Array(outCount);
	const count = new Int32Array(outCount);
	const weights = new Float64Array(outCount * maxTaps);
	for (let o = 0; o < outCount; o++) {
		const center = scale * (outStart + o + 0.5);
		// ATen truncates toward zero (int64_t cast) before clamping.
		const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
		const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
		let total = 0;
		for (let j = 0; j < xsize; j++) {
			const w = triangle((j + xmin - center + 0.5) * invScale);
			weights[o * maxTaps + j] = w;
			total += w;
		}
		if (total !== 0) for (let j = 0; j < xsize; j++) weights[o * maxTaps + j] /= total;
		first[o] = xmin;
		count[o] = xsize;
	}
	return {first, count, weights, maxTaps};
};
