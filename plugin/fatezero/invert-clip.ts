import type {DdimScheduler} from '../diffusion/ddim-scheduler.js';
import {repeatPerFrame} from '../diffusion/predict-noise.js';
import {throwIfAborted, type OnProgress} from '../diffusion/progress.js';
import type {RunnableSession} from '../diffusion/runnable-session.js';
import {UNET_IO} from '../graph/unet-graph.js';
import {float32Tensor, int64Tensor} from '../runtime/host-tensor.js';
import {FUSION_IO, type FusionMode} from './fusion-io.js';
import {fusionFeeds} from './fusion-feeds.js';
import type {FusionPlan} from './fusion-plan.js';
import {StoredAttentionSteps, type StoragePrecision} from './stored-attention.js';

export type InvertClipInput = {
	unet: RunnableSession;
	plan: FusionPlan;
	mode: FusionMode;
	scheduler: DdimScheduler;
	/** z0 [F, 4, h, w]. */
	latents: Float32Array;
	latentShape: [number, number, number, number];
	/** [1, 77, D] source prompt states. */
	sourceText: Float32Array;
	textShape: [number, number, number];
	referenceFrames: number[][];
	steps: number;
	/** Stored mode: precision of the kept queries/keys. Default 'float16'. */
	storagePrecision?: StoragePrecision;
	onProgress?: OnProgress;
	signal?: AbortSignal;
};

export type ClipInversion = {
	/** N + 1 latents: index 0 = z0, index k = after inversion step k (fatezero-spec §1.3). */
	latents: Float32Array[];
	/** Inversion timesteps, ascending. */
	timesteps: number[];
	/** Per inversion step k: the mask layers' source cross-attention, mean over layers and heads. [F, Qm, 77] */
	maskMaps: Float32Array[];
	/** Stored mode: the fused layers' source queries/keys per step; null in recompute mode. */
	stored: StoredAttentionSteps | null;
};

/**
 * DDIM inversion of one clip under the source prompt (guidance 1) with the FateZero UNet: besides
 * the inverted latents it keeps, per step, what editing step N-1-k will need — the blend-mask maps
 * (kilobytes) and, in stored mode, the fused layers' queries/keys. Nothing else: the official
 * code's 36 GiB of probabilities are never materialised (design §4).
 */
export const invertClip = async (input: InvertClipInput): Promise<ClipInversion> => {
	const {unet, plan, mode, scheduler, latentShape, steps} = input;
	const frames = latentShape[0];
	const timesteps = [...scheduler.setTimesteps(steps)].reverse();
	const text = repeatPerFrame(input.sourceText, 1, frames);
	const stored = mode === 'stored' ? new StoredAttentionSteps(input.storagePrecision ?? 'float16') : null;
	// recorded at inversion (outputs) -> fed back while editing (inputs of the same names' stored_*)
	const recorded = plan.fused.flatMap((l) => [
		[FUSION_IO.recordedQuery(l.path), FUSION_IO.storedQuery(l.path)],
		...(l.kind === 'self' ? [[FUSION_IO.recordedKey(l.path), FUSION_IO.storedKey(l.path)]] : []),
	]);
	const fetches = [UNET_IO.noisePred, FUSION_IO.maskMaps, ...(stored ? recorded.map(([output]) => output) : [])];
	// inversion has no targets: every control input is empty (T = 0)
	const controls = fusionFeeds({plan, mode, targets: [], frames, step: null, sourceMaskMaps: null, stored: null, sourceText: input.sourceText, textShape: input.textShape});
	const latents = [input.latents];
	const maskMaps: Float32Array[] = [];
	for (let k = 0; k < steps; k++) {
		throwIfAborted(input.signal);
		const t = timesteps[k];
		const out = await unet.run(
			{
				...controls,
				[UNET_IO.sample]: float32Tensor(latents[k], [...latentShape]),
				[UNET_IO.timestep]: float32Tensor(new Float32Array([t]), [1]),
				[UNET_IO.encoderHiddenStates]: float32Tensor(text, [frames, input.textShape[1], input.textShape[2]]),
				[UNET_IO.referenceFrames]: int64Tensor(input.referenceFrames.flat(), [input.referenceFrames.length, frames]),
			},
			{fetches, signal: input.signal},
		);
		maskMaps.push(out[FUSION_IO.maskMaps].data as Float32Array);
		if (stored) for (const [output, inputName] of recorded) stored.put(k, inputName, out[output]);
		latents.push(scheduler.inversionStep(out[UNET_IO.noisePred].data as Float32Array, t, latents[k]));
		input.onProgress?.({stage: 'invert', step: k + 1, total: steps});
	}
	return {latents, timesteps, maskMaps, stored};
};
