import {FateZeroError} from '../errors/fatezero-error.js';

/** Index of the first NaN or ±Infinity in `data`, or -1. */
export const firstNonFinite = (data: ArrayLike<number>): number => {
	for (let i = 0; i < data.length; i++) {
		const v = data[i];
		// v !== v is NaN; the subtraction is NaN for ±Infinity too
		if (v - v !== 0) return i;
	}
	return -1;
};

export type FiniteCheck = {
	/** The stage that produced the values, e.g. "inversion", "edit", "decode". */
	stage: string;
	/** What the values are, e.g. "the inverted latents of step 12". */
	what: string;
};

/**
 * Refuses NaN or ±Infinity before anything is published or built upon: a non-finite latent
 * decodes to black frames that would otherwise be cached (with valid checksums) and served. The
 * error names the stage, so the cause can be looked for there.
 */
export const assertFinite = (data: ArrayLike<number>, check: FiniteCheck): void => {
	const at = firstNonFinite(data);
	if (at < 0) return;
	let count = 0;
	for (let i = at; i < data.length; i++) if (data[i] - data[i] !== 0) count++;
	throw new FateZeroError(
		'INFERENCE_FAILED',
		`The ${check.stage} stage produced ${count} non-finite value${count === 1 ? '' : 's'} (NaN or Infinity; the first, ${String(data[at])}, at index ${at} of ${data.length}) in ${check.what}. Nothing was published. float16 overflows or damaged weights cause this: try --compute-type float32, and check the model with "fatezero doctor".`,
	);
};
