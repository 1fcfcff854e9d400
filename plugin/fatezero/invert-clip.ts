import type {DdimScheduler} from '../diffusion/ddim-scheduler.js';
import {repeatPerFrame} from '../diffusion/predict-noise.js';
import {throwIfAborted, type OnProgress} from '../diffusion/progress.js';
import type {RunnableSession} from '../diffusion/runnable-session.js';
import {UNET_IO} from '../graph/unet-graph.js';
import {float32Tensor, int64Tensor} from '../runtime/host-tensor.js';
import {gatherFrames, scatterFrames, type ChunkBatch} from './chunk-plan.js';
import {FUSION_IO, type FusionMode, type StoragePrecision} from './fusion-io.js';
import {fusionFeeds} from './fusion-feeds.js';
import type {FusionPlan} from './fusion-plan.js';
import {StoredAttentionSteps} from './stored-attention.js';

export type InvertClipInput = {
	unet: RunnableSession;
	plan: FusionPlan;
	mode: FusionMode;
	scheduler: DdimScheduler;
	/** z0 [F, 4, h, w] of the whole clip. */
	latents: Float32Array;
	latentShape: [number, number, number, number];
	/** [1, 77, D] source prompt states. */
	sourceText: Float32Array;
	textShape: [number, number, number];
	/** UNet batches (chunk-plan.ts); one chunk with every frame is the exact mode. */
	chunks: ChunkBatch[];
	steps: number;
	/** Stored mode: the element type the UNet graph records and takes back (the engine's storagePrecision). Default 'float16'. */
	storagePrecision?: StoragePrecision;
	/** Called with the whole clip's latents after each step (live previews). */
	onStepLatents?: (step: number, latents: Float32Array) => void;
	onProgress?: OnProgress;
	signal?: AbortSignal;
};

/** What one chunk's inversion keeps for its editing. */
export type ChunkInversion = {
	batch: ChunkBatch;
	/** Per inversion step k: the mask layers' source cross-attention (mean over layers and heads). [F_batch, Qm, 77] */
	maskMaps: Float32Array[];
	/** Stored mode: the fused layers' source queries/keys per step; null in recompute mode. */
	stored: StoredAttentionSteps | null;
};

export type ClipInversion = {
	/** N + 1 latents of the whole clip: index 0 = z0, index k = after inversion step k (fatezero-spec §1.3). */
	latents: Float32Array[];
	/** Inversion timesteps, ascending. */
	timesteps: number[];
	chunks: ChunkInversion[];
};

/**
 * DDIM inversion of a clip under the source prompt (guidance 1) with the FateZero UNet: besides
 * the inverted latents it keeps, per step, what editing step N-1-k will need — the blend-mask maps
 * (kilobytes) and, in stored mode, the fused layers' queries/keys. The official code's 36 GiB of
 * probabilities are never materialised (design §4). Chunks advance in lockstep.
 */
export const invertClip = async (input: InvertClipInput): Promise<ClipInversion> => {
	const {unet, plan, mode, scheduler, latentShape, steps} = input;
	const [frameCount, channels, height, width] = latentShape;
	const frameSize = channels * height * width;
	const timesteps = [...scheduler.setTimesteps(steps)].reverse();
	// recorded at inversion (outputs) -> fed back while editing (inputs named stored_*)
	const recorded = plan.fused.flatMap((l) => [
		[FUSION_IO.recordedQuery(l.path), FUSION_IO.storedQuery(l.path)],
		...(l.kind === 'self' ? [[FUSION_IO.recordedKey(l.path), FUSION_IO.storedKey(l.path)]] : []),
	]);
	const fetches = [UNET_IO.noisePred, FUSION_IO.maskMaps, ...(mode === 'stored' ? recorded.map(([output]) => output) : [])];
	const chunks: ChunkInversion[] = input.chunks.map((batch) => ({
		batch,
		maskMaps: [],
		stored: mode === 'stored' ? new StoredAttentionSteps() : null,
	}));
	const latents = [input.latents];
	for (let k = 0; k < steps; k++) {
		const t = timesteps[k];
		const next = new Float32Array(frameCount * frameSize);
		for (const chunk of chunks) {
			throwIfAborted(input.signal);
			const {frames, ownCount, referenceFrames} = chunk.batch;
			const count = frames.length;
			// inversion has no targets: one placeholder target that edits nothing keeps every tensor non-empty
			const controls = fusionFeeds({plan, mode, targets: [], frames: count, step: null, sourceMaskMaps: null, stored: null, storagePrecision: input.storagePrecision, sourceText: input.sourceText, textShape: input.textShape});
			const batchLatents = gatherFrames(latents[k], frames, frameSize);
			const out = await unet.run(
				{
					...controls,
					[UNET_IO.sample]: float32Tensor(batchLatents, [count, channels, height, width]),
					[UNET_IO.timestep]: float32Tensor(new Float32Array([t]), [1]),
					[UNET_IO.encoderHiddenStates]: float32Tensor(repeatPerFrame(input.sourceText, 1, count), [count, input.textShape[1], input.textShape[2]]),
					[UNET_IO.referenceFrames]: int64Tensor(referenceFrames.flat(), [referenceFrames.length, count]),
				},
				{fetches, signal: input.signal},
			);
			chunk.maskMaps.push(out[FUSION_IO.maskMaps].data as Float32Array);
			if (chunk.stored) for (const [output, inputName] of recorded) chunk.stored.put(k, inputName, out[output]);
			// z_{k+1} = √ᾱ_t · x0(z_k, ε) + √(1 − ᾱ_t) · ε for the chunk's own frames
			const stepped = scheduler.inversionStep(out[UNET_IO.noisePred].data as Float32Array, t, batchLatents);
			scatterFrames(next, stepped, frames, ownCount, frameSize);
		}
		latents.push(next);
		input.onStepLatents?.(k, next);
		input.onProgress?.({stage: 'invert', step: k + 1, total: steps});
	}
	return {latents, timesteps, chunks};
};
