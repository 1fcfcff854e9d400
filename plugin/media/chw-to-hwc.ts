/**
 * Model-layout frames [F, 3, S, S] in [-1, 1] → image-layout frames [F, S, S, 3] in [0, 1] (the
 * official tensor_to_numpy), clamped, for PNG writers and PSNR against decoded frames.
 */
export const chwToHwc = (pixels: Float32Array, count: number, size: number): Float32Array => {
	const plane = size * size;
	const out = new Float32Array(count * plane * 3);
	for (let f = 0; f < count; f++) {
		for (let c = 0; c < 3; c++) {
			for (let p = 0; p < plane; p++) out[(f * plane + p) * 3 + c] = Math.min(Math.max(pixels[(f * 3 + c) * plane + p] / 2 + 0.5, 0), 1);
		}
	}
	return out;
};
