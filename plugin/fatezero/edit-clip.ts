import type {DdimScheduler} from '../diffusion/ddim-scheduler.js';
import {throwIfAborted, type OnProgress} from '../diffusion/progress.js';
import type {RunnableSession} from '../diffusion/runnable-session.js';
import {UNET_IO} from '../graph/unet-graph.js';
import {float32Tensor, int64Tensor} from '../runtime/host-tensor.js';
import type {FateZeroTarget} from './fatezero-target.js';
import {fusionFeeds} from './fusion-feeds.js';
import type {FusionMode} from './fusion-io.js';
import type {FusionPlan} from './fusion-plan.js';
import type {ClipInversion} from './invert-clip.js';

export type EditClipInput = {
	unet: RunnableSession;
	plan: FusionPlan;
	mode: FusionMode;
	scheduler: DdimScheduler;
	inversion: ClipInversion;
	latentShape: [number, number, number, number];
	targets: FateZeroTarget[];
	/** [1, 77, D] each: "" (classifier-free guidance), the source prompt, and one per target. */
	unconditionalText: Float32Array;
	sourceText: Float32Array;
	targetTexts: Float32Array[];
	textShape: [number, number, number];
	guidance: number;
	referenceFrames: number[][];
	steps: number;
	/** Called with every target's latents after each step (tests compare them with the official run). */
	onStepLatents?: (step: number, latents: Float32Array[]) => void;
	onProgress?: OnProgress;
	signal?: AbortSignal;
};

const concat = (parts: Float32Array[]): Float32Array => {
	const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
	let offset = 0;
	for (const part of parts) {
		out.set(part, offset);
		offset += part.length;
	}
	return out;
};

/** [1, 77, D] text rows repeated for every frame of a group. */
const perFrame = (row: Float32Array, frames: number): Float32Array[] => Array.from({length: frames}, () => row);

/**
 * FateZero editing (fatezero-spec §1.1, §2) for T targets at once from one inversion. Step i uses
 * timestep t_i and the inversion's step N-1-i (same timestep embedding, §1.5). One UNet call per
 * step on the batch
 *   recompute: [source z_inv[N-1-i] | uncond z_1 … z_T | cond z_1 … z_T]
 *   stored:    [uncond z_1 … z_T | cond z_1 … z_T]
 * then classifier-free guidance ε = ε_u + w·(ε_c − ε_u) and a DDIM step per target.
 */
export const editClip = async (input: EditClipInput): Promise<Float32Array[]> => {
	const {unet, plan, mode, scheduler, inversion, latentShape, targets, steps, guidance} = input;
	const [frames, channels, height, width] = latentShape;
	const clipSize = frames * channels * height * width;
	const count = targets.length;
	const timesteps = scheduler.setTimesteps(steps);
	const [, tokens, dim] = input.textShape;
	// 1. text rows of the batch, fixed for the whole run
	const textRows = [
		...(mode === 'recompute' ? perFrame(input.sourceText, frames) : []),
		...targets.flatMap(() => perFrame(input.unconditionalText, frames)),
		...input.targetTexts.flatMap((row) => perFrame(row, frames)),
	];
	const text = float32Tensor(concat(textRows), [textRows.length, tokens, dim]);
	const references = int64Tensor(input.referenceFrames.flat(), [input.referenceFrames.length, frames]);
	let latents = targets.map(() => inversion.latents[steps]); // every target starts from z_T
	const sourceGroups = mode === 'recompute' ? 1 : 0;

	for (let i = 0; i < steps; i++) {
		throwIfAborted(input.signal);
		const t = timesteps[i];
		const storeStep = steps - 1 - i;
		// 2. the batch for this step and the fusion controls of every target
		const groups = [...(mode === 'recompute' ? [inversion.latents[storeStep]] : []), ...latents, ...latents];
		const controls = fusionFeeds({
			plan,
			mode,
			targets,
			frames,
			step: i,
			sourceMaskMaps: inversion.maskMaps[storeStep],
			stored: inversion.stored?.get(storeStep) ?? null,
			sourceText: input.sourceText,
			textShape: input.textShape,
		});
		const out = await unet.run(
			{
				...controls,
				[UNET_IO.sample]: float32Tensor(concat(groups), [groups.length * frames, channels, height, width]),
				[UNET_IO.timestep]: float32Tensor(new Float32Array([t]), [1]),
				[UNET_IO.encoderHiddenStates]: text,
				[UNET_IO.referenceFrames]: references,
			},
			{fetches: [UNET_IO.noisePred], signal: input.signal},
		);
		const eps = out[UNET_IO.noisePred].data as Float32Array;
		// 3. guidance and the DDIM step (12), per target
		latents = latents.map((z, target) => {
			const uncond = eps.subarray((sourceGroups + target) * clipSize, (sourceGroups + target + 1) * clipSize);
			const cond = eps.subarray((sourceGroups + count + target) * clipSize, (sourceGroups + count + target + 1) * clipSize);
			const guided = new Float32Array(clipSize);
			for (let j = 0; j < clipSize; j++) guided[j] = Math.fround(uncond[j] + Math.fround(guidance * Math.fround(cond[j] - uncond[j])));
			return scheduler.step(guided, t, z);
		});
		input.onStepLatents?.(i, latents);
		input.onProgress?.({stage: 'denoise', step: i + 1, total: steps});
	}
	return latents;
};
