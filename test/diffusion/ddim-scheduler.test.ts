import {readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {DdimScheduler, SD1_SCHEDULER_CONFIG} from '../../plugin/diffusion/ddim-scheduler.js';
import {isFateZeroError} from '../../plugin/errors/fatezero-error.js';
import {GoldenFile, goldenDir, goldenSkipReason, hasGolden, maxAbsDiff} from '../helpers/golden.js';

const seeded = (n: number, seed: number) => {
	let s = seed >>> 0;
	return Float32Array.from({length: n}, () => {
		s = (s * 1664525 + 1013904223) >>> 0;
		return (s / 2 ** 32 - 0.5) * 4;
	});
};

describe('DdimScheduler', () => {
	it('computes SD-1.x timesteps', () => {
		const scheduler = new DdimScheduler();
		expect(scheduler.timesteps(10)).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
		expect(scheduler.timesteps(1)).toEqual([1]);
		const fifty = scheduler.timesteps(50);
		expect([fifty[0], fifty[1], fifty[49], fifty.length]).toEqual([981, 961, 1, 50]);
		// Δ = 1000 // 3 = 333, not 1000 / 3.
		expect(scheduler.timesteps(3)).toEqual([667, 334, 1]);
	});

	it('has the SD-1.x noise schedule', () => {
		const scheduler = new DdimScheduler(SD1_SCHEDULER_CONFIG);
		expect(scheduler.betas[0]).toBeCloseTo(0.00085, 8);
		expect(scheduler.betas[999]).toBeCloseTo(0.012, 8);
		expect(scheduler.finalAlphaCumprod).toBe(scheduler.alphasCumprod[0]);
		expect(new DdimScheduler({...SD1_SCHEDULER_CONFIG, setAlphaToOne: true}).finalAlphaCumprod).toBe(1);
		const linear = new DdimScheduler({...SD1_SCHEDULER_CONFIG, betaSchedule: 'linear', betaStart: 0.0001, betaEnd: 0.02});
		expect(linear.betas[0]).toBeCloseTo(0.0001, 8);
		expect(linear.betas[500]).toBeCloseTo(0.0001 + (0.0199 * 500) / 999, 8);
	});

	it('rejects an invalid numInferenceSteps with INVALID_OPTION', () => {
		const scheduler = new DdimScheduler();
		for (const bad of [0, -5, 2.5, 1001, Number.NaN]) {
			let error: unknown;
			try {
				scheduler.setTimesteps(bad);
			} catch (e) {
				error = e;
			}
			expect(isFateZeroError(error, 'INVALID_OPTION'), String(bad)).toBe(true);
			expect((error as Error).message).toContain(`numInferenceSteps is ${bad}`);
		}
		expect(() => scheduler.step(new Float32Array(4), 981, new Float32Array(4))).toThrow(/setTimesteps/);
	});

	it('inversionStep then step with the same eps returns the latent', () => {
		const scheduler = new DdimScheduler();
		const latent = seeded(4096, 1);
		const eps = seeded(4096, 2);
		for (const n of [10, 50]) {
			for (const t of scheduler.setTimesteps(n)) {
				const noisier = scheduler.inversionStep(eps, t, latent);
				const back = scheduler.step(eps, t, noisier);
				// Both directions divide by √ᾱ; the round trip loses a few float32 ulps of |x0|.
				expect(maxAbsDiff(back, latent), `N=${n} t=${t}`).toBeLessThan(2e-5);
			}
		}
	});

	it('clips x0 only when the config says clip_sample', () => {
		const latent = Float32Array.of(3, -3, 0.5);
		const eps = Float32Array.of(0, 0, 0);
		const plain = new DdimScheduler();
		const clipping = new DdimScheduler({...SD1_SCHEDULER_CONFIG, clipSample: true});
		plain.setTimesteps(10);
		clipping.setTimesteps(10);
		const sqrtAlpha = Math.sqrt(plain.alphasCumprod[1]);
		const sqrtAlphaPrev = Math.sqrt(plain.finalAlphaCumprod);
		// eps = 0 makes x0 = z / √ᾱ_t, and t = 1 steps to ᾱ_prev = final_alpha_cumprod.
		expect(plain.step(eps, 1, latent)[0]).toBeCloseTo((sqrtAlphaPrev * 3) / sqrtAlpha, 5);
		const clipped = clipping.step(eps, 1, latent);
		expect(clipped[0]).toBeCloseTo(sqrtAlphaPrev, 6);
		expect(clipped[1]).toBeCloseTo(-sqrtAlphaPrev, 6);
		expect(clipped[2]).toBeCloseTo((sqrtAlphaPrev * 0.5) / sqrtAlpha, 6);
		// Inversion never clips.
		expect(clipping.inversionStep(eps, 101, latent)[0]).toBeGreaterThan(2.5);
	});
});

describe.skipIf(!hasGolden)(`DdimScheduler vs diffusers 0.11.1 DDIMScheduler + FateZero inversion${hasGolden ? '' : ` (${goldenSkipReason})`}`, () => {
	const golden = hasGolden ? new GoldenFile('components/scheduler.safetensors') : undefined;
	const meta = hasGolden
		? (JSON.parse(readFileSync(path.join(goldenDir, 'components', 'scheduler.json'), 'utf8')) as {steps: {N: number; t: number}[]})
		: {steps: []};

	it('matches betas, alphas_cumprod and final_alpha_cumprod', () => {
		const scheduler = new DdimScheduler(SD1_SCHEDULER_CONFIG);
		const betasDiff = maxAbsDiff(scheduler.betas, golden!.float('betas').data);
		const alphasDiff = maxAbsDiff(scheduler.alphasCumprod, golden!.float('alphas_cumprod').data);
		// Observed: 0 and 0 (torch's float32 linspace and float64-accumulated cumprod reproduced).
		expect(betasDiff).toBeLessThanOrEqual(1e-9);
		expect(alphasDiff).toBeLessThanOrEqual(1e-7);
		expect(scheduler.finalAlphaCumprod).toBe(golden!.float('final_alpha_cumprod').data[0]);
	});

	it('matches timesteps for N = 1, 10, 50', () => {
		const scheduler = new DdimScheduler();
		for (const n of [1, 10, 50]) {
			expect(scheduler.timesteps(n)).toEqual(Array.from(golden!.int64(`timesteps.N${n}`).data, Number));
		}
	});

	it('matches ddim_step and inversion_step at every recorded (N, t)', () => {
		expect(meta.steps.length).toBe(6);
		const latent = golden!.float('step_input.latent').data;
		const eps = golden!.float('step_input.eps').data;
		const scheduler = new DdimScheduler();
		for (const {N, t} of meta.steps) {
			scheduler.setTimesteps(N);
			const stepDiff = maxAbsDiff(scheduler.step(eps, t, latent), golden!.float(`ddim_step.N${N}.t${t}`).data);
			const inversionDiff = maxAbsDiff(scheduler.inversionStep(eps, t, latent), golden!.float(`inversion_step.N${N}.t${t}`).data);
			// Observed: 0 for all twelve (float32 op order as torch).
			expect(stepDiff, `ddim_step N=${N} t=${t}`).toBeLessThanOrEqual(1e-6);
			expect(inversionDiff, `inversion_step N=${N} t=${t}`).toBeLessThanOrEqual(1e-6);
		}
	});

	it('writes into a caller-provided buffer', () => {
		const latent = golden!.float('step_input.latent').data;
		const eps = golden!.float('step_input.eps').data;
		const scheduler = new DdimScheduler();
		scheduler.setTimesteps(10);
		const out = new Float32Array(latent.length);
		expect(scheduler.step(eps, 901, latent, out)).toBe(out);
		expect(maxAbsDiff(out, golden!.float('ddim_step.N10.t901').data)).toBeLessThanOrEqual(1e-6);
	});
});
