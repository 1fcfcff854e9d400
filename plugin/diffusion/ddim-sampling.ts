import type {DdimScheduler} from './ddim-scheduler.js';
import {predictNoise, repeatPerFrame} from './predict-noise.js';
import {throwIfAborted, type OnProgress} from './progress.js';
import type {RunnableSession} from './runnable-session.js';

export type SamplingInput = {
	unet: RunnableSession;
	scheduler: DdimScheduler;
	/** z_T, [F, 4, h, w] for one clip. */
	latents: Float32Array;
	latentShape: [number, number, number, number];
	/** [1, 77, D] conditional text states. */
	text: Float32Array;
	/** [1, 77, D] unconditional ("") states; needed when guidance ≠ 1. */
	unconditionalText?: Float32Array;
	textShape: [number, number, number];
	/** Classifier-free guidance scale w: ε = ε_u + w·(ε_c − ε_u). 1 = conditional only (one UNet pass). */
	guidance: number;
	referenceFrames: number[][];
	steps: number;
	onProgress?: OnProgress;
	signal?: AbortSignal;
};

/**
 * Plain DDIM sampling (eta 0) from z_T, with classifier-free guidance when guidance ≠ 1: the
 * unconditional and conditional clips run as one batch of two clips, as the official pipeline does.
 */
export const sampleLatents = async (input: SamplingInput): Promise<Float32Array> => {
	const {unet, scheduler, latentShape, steps, guidance} = input;
	const [frames, channels, height, width] = latentShape;
	const timesteps = scheduler.setTimesteps(steps);
	const useGuidance = guidance !== 1;
	if (useGuidance && !input.unconditionalText) {
		throw new TypeError('sampleLatents: guidance ≠ 1 needs unconditionalText');
	}
	// 1. text rows per frame: [uncond × F, cond × F] or [cond × F]
	const rows = useGuidance ? concat(input.unconditionalText!, input.text) : input.text;
	const clips = useGuidance ? 2 : 1;
	const text = repeatPerFrame(rows, clips, frames);
	const textShape: [number, number, number] = [clips * frames, input.textShape[1], input.textShape[2]];
	const clipSize = frames * channels * height * width;
	let z = input.latents;
	for (let i = 0; i < steps; i++) {
		throwIfAborted(input.signal);
		const t = timesteps[i];
		// 2. ε for the batch of clips; the two clips are independent (norms pool per clip)
		const batch = useGuidance ? concat(z, z) : z;
		const eps = await predictNoise(unet, {
			latents: batch,
			latentShape: [clips * frames, channels, height, width],
			timestep: t,
			text,
			textShape,
			referenceFrames: input.referenceFrames,
		});
		// 3. guidance: ε = ε_u + w·(ε_c − ε_u)
		let guided = eps;
		if (useGuidance) {
			guided = new Float32Array(clipSize);
			for (let j = 0; j < clipSize; j++) guided[j] = eps[j] + guidance * (eps[clipSize + j] - eps[j]);
		}
		// 4. DDIM step (12) to t − Δ
		z = scheduler.step(guided, t, z);
		input.onProgress?.({stage: 'denoise', step: i + 1, total: steps});
	}
	return z;
};

const concat = (a: Float32Array, b: Float32Array): Float32Array => {
	const out = new Float32Array(a.length + b.length);
	out.set(a);
	out.set(b, a.length);
	return out;
};
