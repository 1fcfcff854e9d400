import {describe, expect, it} from 'vitest';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {assertFinite, firstNonFinite} from '../../plugin/media/assert-finite.js';
import {toRgb8} from '../../plugin/media/write-png-frames.js';

describe('no NaN/Inf is ever published (issue 16)', () => {
	it('firstNonFinite finds NaN and both infinities', () => {
		expect(firstNonFinite(new Float32Array([0, 1, -2]))).toBe(-1);
		expect(firstNonFinite(new Float32Array([0, Number.NaN]))).toBe(1);
		expect(firstNonFinite([Number.NEGATIVE_INFINITY])).toBe(0);
		expect(firstNonFinite(new Float32Array([3.4e38, 3.4e38]).map((v) => v * 10))).toBe(0);
	});

	it('assertFinite names the stage, what it checked and how many values', () => {
		const error = (() => {
			try {
				assertFinite(new Float32Array([1, Number.NaN, 2, Number.POSITIVE_INFINITY]), {stage: 'inversion', what: 'the inverted latents'});
			} catch (e) {
				return e;
			}
			return null;
		})();
		expect(isFateZeroError(error, 'INFERENCE_FAILED')).toBe(true);
		expect((error as Error).message).toMatch(/^The inversion stage produced 2 non-finite values \(NaN or Infinity; the first, NaN, at index 1 of 4\) in the inverted latents\. Nothing was published/);
	});

	it('a decoded frame with NaN is refused instead of becoming black pixels', () => {
		const frames = new Float32Array(2 * 2 * 2 * 3).fill(0.5);
		expect([...toRgb8(frames, 1, 2, 2)]).toEqual(Array(12).fill(128));
		frames[12 + 5] = Number.NaN;
		expect(() => toRgb8(frames, 0, 2, 2)).not.toThrow();
		expect(() => toRgb8(frames, 1, 2, 2)).toThrow(/The decode stage produced 1 non-finite value .* in decoded frame 1/);
	});
});
