import {FateZeroError} from '../errors/fatezero-error.js';
import type {DdimScheduler} from '../diffusion/ddim-scheduler.js';
import {throwIfAborted, type OnProgress} from '../diffusion/progress.js';
import type {RunnableSession} from '../diffusion/runnable-session.js';
import {UNET_IO} from '../graph/unet-graph.js';
import {concatFloat32, float32Tensor, int64Tensor} from '../runtime/host-tensor.js';
import {gatherFrames, scatterFrames} from './chunk-plan.js';
import type {FateZeroTarget} from './fatezero-target.js';
import {fusionFeeds} from './fusion-feeds.js';
import type {FusionMode} from './fusion-io.js';
import type {FusionPlan} from './fusion-plan.js';
import type {ClipInversion} from './invert-clip.js';
import {applyLatentBlend, latentBlendActive} from './latent-blend.js';
import {FUSION_IO} from './fusion-io.js';

export type EditClipInput = {
	unet: RunnableSession;
	plan: FusionPlan;
	mode: FusionMode;
	scheduler: DdimScheduler;
	inversion: ClipInversion;
	/** [F, 4, h, w] of the whole clip. */
	latentShape: [number, number, number, number];
	targets: FateZeroTarget[];
	/** [1, 77, D] each: "" (classifier-free guidance), the source prompt, and one per target. */
	unconditionalText: Float32Array;
	sourceText: Float32Array;
	targetTexts: Float32Array[];
	textShape: [number, number, number];
	guidance: number;
	steps: number;
	/** Called with every target's clip latents after each step (tests compare them with the official run). */
	onStepLatents?: (step: number, latents: Float32Array[]) => void;
	onProgress?: OnProgress;
	signal?: AbortSignal;
};

/** Text rows for `frames` frames of one group: the same [77, D] row for every frame. */
const rows = (row: Float32Array, frames: number): Float32Array[] => Array.from({length: frames}, () => row);

/**
 * FateZero editing (fatezero-spec §1.1, §2) for T targets at once from one inversion. Step i uses
 * timestep t_i and the inversion's step N-1-i (same timestep embedding, §1.5). One UNet call per
 * step and chunk on the batch
 *   recompute: [source z_inv[N-1-i] | uncond z_1 … z_T | cond z_1 … z_T]
 *   stored:    [uncond z_1 … z_T | cond z_1 … z_T]
 * then classifier-free guidance ε = ε_u + w·(ε_c − ε_u) and a DDIM step (12) per target.
 */
export const editClip = async (input: EditClipInput): Promise<Float32Array[]> => {
	const {unet, plan, mode, scheduler, inversion, latentShape, targets, steps, guidance} = input;
	const [frameCount, channels, height, width] = latentShape;
	const frameSize = channels * height * width;
	const count = targets.length;
	const timesteps = scheduler.setTimesteps(steps);
	const [, tokens, dim] = input.textShape;
	const sourceGroups = mode === 'recompute' ? 1 : 0;
	let latents = targets.map(() => inversion.latents[steps]); // every target starts from z_T
	const blending = targets.some((t) => t.latentBlend && t.edit.blendAlphaRows !== null);
	// per chunk and target: the target's mask maps summed over the steps so far (latent blend)
	const targetMapSums = inversion.chunks.map(() => targets.map(() => null as Float32Array | null));

	for (let i = 0; i < steps; i++) {
		const t = timesteps[i];
		const storeStep = steps - 1 - i;
		const next = targets.map(() => new Float32Array(frameCount * frameSize));
		for (const [c, chunk] of inversion.chunks.entries()) {
			throwIfAborted(input.signal);
			const {frames, ownCount, referenceFrames} = chunk.batch;
			const f = frames.length;
			const clipSize = f * frameSize;
			// 1. the batch: [source?] + uncond per target + cond per target, with their text rows
			const targetLatents = latents.map((z) => gatherFrames(z, frames, frameSize));
			const groups = [...(sourceGroups ? [gatherFrames(inversion.latents[storeStep], frames, frameSize)] : []), ...targetLatents, ...targetLatents];
			const textRows = [
				...(sourceGroups ? rows(input.sourceText, f) : []),
				...targets.flatMap(() => rows(input.unconditionalText, f)),
				...input.targetTexts.flatMap((row) => rows(row, f)),
			];
			const controls = fusionFeeds({
				plan,
				mode,
				targets,
				frames: f,
				step: i,
				sourceMaskMaps: chunk.maskMaps[storeStep],
				stored: chunk.stored?.get(storeStep) ?? null,
				sourceText: input.sourceText,
				textShape: input.textShape,
			});
			const out = await unet.run(
				{
					...controls,
					[UNET_IO.sample]: float32Tensor(concatFloat32(groups), [groups.length * f, channels, height, width]),
					[UNET_IO.timestep]: float32Tensor(new Float32Array([t]), [1]),
					[UNET_IO.encoderHiddenStates]: float32Tensor(concatFloat32(textRows), [textRows.length, tokens, dim]),
					[UNET_IO.referenceFrames]: int64Tensor(referenceFrames.flat(), [referenceFrames.length, f]),
				},
				{fetches: blending ? [UNET_IO.noisePred, FUSION_IO.targetMaskMaps] : [UNET_IO.noisePred], signal: input.signal},
			);
			const eps = out[UNET_IO.noisePred].data as Float32Array;
			// the graph may let the source group go before its last blocks: count groups from the end
			const firstOutputGroup = out[UNET_IO.noisePred].dims[0] / f - 2 * count;
			if (firstOutputGroup !== 0 && firstOutputGroup !== sourceGroups) {
				throw new FateZeroError(
					'INFERENCE_FAILED',
					`The UNet returned ${out[UNET_IO.noisePred].dims[0]} rows for ${groups.length} groups of ${f} frames; its graph does not match this engine. Delete <cacheDir>/graphs and run again.`,
				);
			}
			const mapSize = f * plan.maskHeight * plan.maskWidth * 77;
			// 2. guidance and the DDIM step per target, kept for the chunk's own frames
			for (let target = 0; target < count; target++) {
				const uncond = eps.subarray((firstOutputGroup + target) * clipSize, (firstOutputGroup + target + 1) * clipSize);
				const cond = eps.subarray((firstOutputGroup + count + target) * clipSize, (firstOutputGroup + count + target + 1) * clipSize);
				const guided = new Float32Array(clipSize);
				for (let j = 0; j < clipSize; j++) guided[j] = Math.fround(uncond[j] + Math.fround(guidance * Math.fround(cond[j] - uncond[j])));
				let stepped = scheduler.step(guided, t, targetLatents[target]);
				const rows = targets[target].edit.blendAlphaRows;
				if (targets[target].latentBlend && rows !== null) {
					// the official controller accumulates the target's maps over every step (attention_store)
					const maps = (out[FUSION_IO.targetMaskMaps].data as Float32Array).subarray(target * mapSize, (target + 1) * mapSize);
					const sum = targetMapSums[c][target] ?? new Float32Array(mapSize);
					for (let j = 0; j < mapSize; j++) sum[j] += maps[j];
					targetMapSums[c][target] = sum;
					if (latentBlendActive(i, steps)) {
						stepped = applyLatentBlend({
							latents: stepped,
							inverted: gatherFrames(inversion.latents[steps - i], frames, frameSize),
							frames: f,
							channels,
							height,
							width,
							sourceMaps: chunk.maskMaps[storeStep],
							targetMaps: sum,
							mapHeight: plan.maskHeight,
							mapWidth: plan.maskWidth,
							alphaRows: rows,
							threshold: targets[target].blendThreshold,
						});
					}
				}
				scatterFrames(next[target], stepped, frames, ownCount, frameSize);
			}
		}
		latents = next;
		input.onStepLatents?.(i, latents);
		input.onProgress?.({stage: 'denoise', step: i + 1, total: steps});
	}
	return latents;
};
