/**
 * Peak signal-to-noise ratio in dB between two images with values in [0, peak]: 10·log10(peak² / MSE).
 * Identical inputs give Infinity.
 */
export const psnr = (a: ArrayLike<number>, b: ArrayLike<number>, peak = 1): number => {
	if (a.length !== b.length || a.length === 0) {
		throw new TypeError(`psnr: inputs have ${a.length} and ${b.length} values; they must be equal and non-empty`);
	}
	let sum = 0;
	for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
	const mse = sum / a.length;
	return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((peak * peak) / mse);
};
