import {FateZeroError} from '../errors/fatezero-error.js';
import type {SchedulerConfig} from '../model/component-configs.js';

/**
 * DDIM sampling and inversion exactly as FateZero runs them: diffusers 0.11.1 `DDIMScheduler`
 * (eta = 0) for denoising and FateZero's `next_clean2noise_step` for inversion (spec §1.2–1.3).
 * Pure and browser-safe: latents are flat Float32Arrays.
 *
 * Arithmetic follows torch's float32 op order (ᾱ as float32, each √, product, difference and
 * quotient rounded to float32), which reproduces the reference latents bit for bit. Computing the
 * coefficients in float64 and rounding once is slightly more accurate but lands up to 2 ulp
 * (9.5e-7 at |x| ≈ 7) away from them, too close to the 1e-6 parity budget to be worth it.
 */

/** The scheduler/scheduler_config.json of every SD-1.x checkpoint FateZero ships configs for. */
export const SD1_SCHEDULER_CONFIG: SchedulerConfig = Object.freeze<SchedulerConfig>({
	numTrainTimesteps: 1000,
	betaStart: 0.00085,
	betaEnd: 0.012,
	betaSchedule: 'scaled_linear',
	setAlphaToOne: false,
	stepsOffset: 1,
	// FateZero configs leave this false; diffusers' own default (true) would clamp x0 to [-1, 1].
	clipSample: false,
	predictionType: 'epsilon',
});

/** float32(a·b + c) with a single rounding, like an FMA instruction on float32 operands. */
const fmaF32 = (a: number, b: number, c: number): number => {
	// a·b of two float32 values is exact in float64; only the sum can round.
	const product = a * b;
	const sum = product + c;
	const rounded = Math.fround(sum);
	// Rounding to float64 first and then to float32 is wrong only when the float64 sum lands
	// exactly between two float32 values: then the sign of the lost low part decides.
	const virtual = sum - product;
	const lowPart = product - (sum - virtual) + (c - virtual);
	if (lowPart === 0 || rounded === sum) return rounded;
	const other = 2 * sum - rounded;
	if (Math.fround(other) !== other || sum - rounded !== other - sum) return rounded;
	return lowPart > 0 ? Math.max(rounded, other) : Math.min(rounded, other);
};

/**
 * torch.linspace(start, end, steps, dtype=float32) as the CPU kernel of the torch that produced
 * the goldens computes it: float32 step; values below the halfway index count up from `start`,
 * the rest count down from `end`; 8-lane vectors (two per loop turn) whose lanes are
 * `base + k·step` with fused multiply-adds, and a scalar tail. Reproducing that layout gives the
 * reference betas bit for bit; a float64 linspace rounded to float32 changes 344 of the 1000 betas
 * (by up to 1.9e-9) and ᾱ by up to 1.2e-7.
 */
const torchLinspaceF32 = (start: number, end: number, steps: number): Float32Array => {
	const out = new Float32Array(steps);
	const s = Math.fround(start);
	const e = Math.fround(end);
	if (steps === 1) {
		out[0] = s;
		return out;
	}
	const step = Math.fround(Math.fround(e - s) / (steps - 1));
	const halfway = Math.floor(steps / 2);
	const lanes = 8;
	const vectorised = Math.floor(steps / (2 * lanes)) * 2 * lanes;
	for (let idx = 0; idx < vectorised; idx += lanes) {
		const base = idx < halfway ? fmaF32(step, idx, s) : fmaF32(-step, steps - idx - 1, e);
		for (let k = 0; k < lanes; k++) out[idx + k] = fmaF32(k, step, base);
	}
	for (let idx = vectorised; idx < steps; idx++) {
		out[idx] = idx < halfway ? fmaF32(step, idx, s) : fmaF32(-step, steps - idx - 1, e);
	}
	return out;
};

const computeBetas = (config: SchedulerConfig): Float32Array => {
	if (config.betaSchedule === 'linear') {
		return torchLinspaceF32(config.betaStart, config.betaEnd, config.numTrainTimesteps);
	}
	// scaled_linear: linspace in sqrt space, squared in float32 (torch's `** 2`).
	const roots = torchLinspaceF32(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), config.numTrainTimesteps);
	return roots.map((root) => Math.fround(root * root));
};

/** ᾱ_k = Π_{i≤k} (1 − β_i). torch's CPU cumprod accumulates float32 inputs in float64. */
const computeAlphasCumprod = (betas: Float32Array): Float32Array => {
	const out = new Float32Array(betas.length);
	let product = 1;
	for (let k = 0; k < betas.length; k++) {
		product *= Math.fround(1 - betas[k]);
		out[k] = product;
	}
	return out;
};

const checkLatents = (what: string, eps: Float32Array, latent: Float32Array, out: Float32Array | undefined) => {
	if (eps.length !== latent.length) {
		throw new RangeError(`${what}: eps has ${eps.length} elements but the latent has ${latent.length}`);
	}
	if (out && out.length !== latent.length) {
		throw new RangeError(`${what}: out has ${out.length} elements but the latent has ${latent.length}`);
	}
};

/**
 * DDIM paper formula (12) with eta = 0, from the level with ᾱ = alphaFrom to the one with
 * ᾱ = alphaTo: x_to = √ᾱ_to · x0_pred + √(1 − ᾱ_to) · ε.
 */
const ddimUpdate = (
	eps: Float32Array,
	latent: Float32Array,
	alphaFrom: number,
	alphaTo: number,
	clipSample: boolean,
	out: Float32Array | undefined,
): Float32Array => {
	const f = Math.fround;
	const sqrtAlphaFrom = f(Math.sqrt(alphaFrom));
	const sqrtBetaFrom = f(Math.sqrt(f(1 - alphaFrom)));
	const sqrtAlphaTo = f(Math.sqrt(alphaTo));
	// eta = 0 makes σ_t = 0, so the direction keeps the whole √(1 − ᾱ_to).
	const directionScale = f(Math.sqrt(f(1 - alphaTo)));
	const result = out ?? new Float32Array(latent.length);
	for (let i = 0; i < latent.length; i++) {
		// "predicted x_0"
		let x0 = f(f(latent[i] - f(sqrtBetaFrom * eps[i])) / sqrtAlphaFrom);
		if (clipSample) x0 = Math.min(1, Math.max(-1, x0));
		// "direction pointing to x_t"
		const direction = f(directionScale * eps[i]);
		result[i] = f(sqrtAlphaTo * x0) + direction;
	}
	return result;
};

export class DdimScheduler {
	readonly config: SchedulerConfig;
	/** β_k, float32 as torch computes them. */
	readonly betas: Float32Array;
	/** ᾱ_k, float32 as torch computes them. */
	readonly alphasCumprod: Float32Array;
	/** ᾱ used "before" timestep 0: 1 with set_alpha_to_one, else ᾱ_0 (SD-1.x). */
	readonly finalAlphaCumprod: number;
	#numInferenceSteps: number | undefined;

	constructor(config: SchedulerConfig = SD1_SCHEDULER_CONFIG) {
		if (!Number.isInteger(config.numTrainTimesteps) || config.numTrainTimesteps < 1) {
			throw new FateZeroError(
				'MODEL_CONFIG_INVALID',
				`scheduler num_train_timesteps is ${config.numTrainTimesteps}; it must be a positive integer (SD-1.x uses 1000). Fix scheduler/scheduler_config.json.`,
			);
		}
		this.config = config;
		this.betas = computeBetas(config);
		this.alphasCumprod = computeAlphasCumprod(this.betas);
		this.finalAlphaCumprod = config.setAlphaToOne ? 1 : this.alphasCumprod[0];
	}

	/** The N of the last setTimesteps(N), which fixes the stride Δ of step() and inversionStep(). */
	get numInferenceSteps(): number | undefined {
		return this.#numInferenceSteps;
	}

	/** Δ = num_train_timesteps // N: the distance between consecutive inference timesteps. */
	get stepRatio(): number {
		if (this.#numInferenceSteps === undefined) {
			throw new Error('DdimScheduler: call setTimesteps(numInferenceSteps) before stepping');
		}
		return Math.floor(this.config.numTrainTimesteps / this.#numInferenceSteps);
	}

	/** The N denoising timesteps, descending: arange(N)·Δ reversed + steps_offset (N=50: 981 … 1). */
	timesteps(numInferenceSteps: number): number[] {
		this.#validateSteps(numInferenceSteps);
		const ratio = Math.floor(this.config.numTrainTimesteps / numInferenceSteps);
		return Array.from({length: numInferenceSteps}, (_, i) => (numInferenceSteps - 1 - i) * ratio + this.config.stepsOffset);
	}

	/** Fixes N for the following steps and returns timesteps(N). */
	setTimesteps(numInferenceSteps: number): number[] {
		const timesteps = this.timesteps(numInferenceSteps);
		this.#numInferenceSteps = numInferenceSteps;
		return timesteps;
	}

	/**
	 * One DDIM denoising step (eta = 0) from timestep t to t − Δ, DDIM paper formula (12):
	 * x_{t−Δ} = √ᾱ_{t−Δ} · x0_pred + √(1 − ᾱ_{t−Δ}) · ε.
	 */
	step(eps: Float32Array, t: number, latent: Float32Array, out?: Float32Array): Float32Array {
		checkLatents('DdimScheduler.step', eps, latent, out);
		this.#checkTimestep('step', t);
		const prevT = t - this.stepRatio;
		const alphaProdPrev = prevT >= 0 ? this.alphasCumprod[prevT] : this.finalAlphaCumprod;
		return ddimUpdate(eps, latent, this.alphasCumprod[t], alphaProdPrev, this.config.clipSample, out);
	}

	/**
	 * One DDIM inversion step (FateZero `next_clean2noise_step`): from the latent at t − Δ to the
	 * latent at t, with ε predicted at (that latent, t). The mirror of step(); it never clips x0.
	 */
	inversionStep(eps: Float32Array, t: number, latent: Float32Array, out?: Float32Array): Float32Array {
		checkLatents('DdimScheduler.inversionStep', eps, latent, out);
		this.#checkTimestep('inversionStep', t);
		// FateZero clamps with min(·, 999) whatever num_train_timesteps is; kept as written.
		const currentT = Math.min(t - this.stepRatio, 999);
		const alphaProdCurrent = currentT >= 0 ? this.alphasCumprod[currentT] : this.finalAlphaCumprod;
		// Same update as step(), run from the less noisy level to the noisier one.
		return ddimUpdate(eps, latent, alphaProdCurrent, this.alphasCumprod[t], false, out);
	}

	#validateSteps(numInferenceSteps: number) {
		const max = this.config.numTrainTimesteps;
		if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > max) {
			throw new FateZeroError(
				'INVALID_OPTION',
				`numInferenceSteps is ${String(numInferenceSteps)}; it must be a whole number from 1 to ${max} (the scheduler's num_train_timesteps). FateZero uses 50; 10 is a fast preview.`,
			);
		}
	}

	#checkTimestep(what: string, t: number) {
		if (!Number.isInteger(t) || t < 0 || t >= this.alphasCumprod.length) {
			throw new RangeError(`DdimScheduler.${what}: timestep ${t} is not an integer in [0, ${this.alphasCumprod.length - 1}]`);
		}
	}
}
