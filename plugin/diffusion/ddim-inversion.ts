import type {DdimScheduler} from './ddim-scheduler.js';
import {predictNoise, repeatPerFrame} from './predict-noise.js';
import {throwIfAborted, type OnProgress} from './progress.js';
import type {RunnableSession} from './runnable-session.js';

export type InversionInput = {
	unet: RunnableSession;
	scheduler: DdimScheduler;
	/** z0 = scaling · VAE mean, [F, 4, h, w] for one clip. */
	latents: Float32Array;
	latentShape: [number, number, number, number];
	/** [1, 77, D] text states of the source prompt. */
	sourceText: Float32Array;
	textShape: [number, number, number];
	referenceFrames: number[][];
	steps: number;
	onProgress?: OnProgress;
	/** Called with every inverted latent as it is produced (index k = after step k). */
	onLatent?: (k: number, latent: Float32Array) => void;
	signal?: AbortSignal;
};

export type InversionResult = {
	/** N + 1 latents: index 0 = z0, index k = after inversion step k (t ascending). */
	latents: Float32Array[];
	/** The timesteps in inversion order (ascending: 1, 1 + Δ, …). */
	timesteps: number[];
};

/**
 * DDIM inversion (fatezero-spec §1.3): from z0 towards noise under the source prompt, without
 * classifier-free guidance. Step k uses t = timesteps[N-1-k] and ε(z_{k}, t), the P2P / null-text
 * approximation of ε at the next (noisier) level.
 */
export const invertLatents = async (input: InversionInput): Promise<InversionResult> => {
	const {unet, scheduler, latentShape, steps} = input;
	const frames = latentShape[0];
	// 1. timesteps, ascending for inversion
	const timesteps = [...scheduler.setTimesteps(steps)].reverse();
	// 2. the source prompt's states for every frame: [F, 77, D]
	const text = repeatPerFrame(input.sourceText, 1, frames);
	const textShape: [number, number, number] = [frames, input.textShape[1], input.textShape[2]];
	const latents = [input.latents];
	input.onLatent?.(0, input.latents);
	// 3. z_{k+1} = √ᾱ_t · x0(z_k, ε) + √(1 − ᾱ_t) · ε, with ε = UNet(z_k, t, source)
	for (let k = 0; k < steps; k++) {
		throwIfAborted(input.signal);
		const t = timesteps[k];
		const eps = await predictNoise(unet, {latents: latents[k], latentShape, timestep: t, text, textShape, referenceFrames: input.referenceFrames});
		const next = scheduler.inversionStep(eps, t, latents[k]);
		latents.push(next);
		input.onLatent?.(k + 1, next);
		input.onProgress?.({stage: 'invert', step: k + 1, total: steps});
	}
	return {latents, timesteps};
};
