import type {FusionMode} from './fusion-io.js';
import type {FusionPlan} from './fusion-plan.js';

export type MemoryEstimateInput = {
	plan: FusionPlan;
	mode: FusionMode;
	/** Frames in one UNet batch (a chunk plus its extra reference frames). */
	batchFrames: number;
	targets: number;
	/** Reference frames per query frame in the spatial-temporal layers (1 for 'mid', 2 for [-1, 'first']). */
	references: number;
	/** Channels of the UNet's first level (320 for SD-1.x); activations scale with it. */
	baseChannels: number;
	latentHeight: number;
	latentWidth: number;
};

/**
 * Rough peak working memory of one editing UNet call, in bytes (weights excluded): the largest
 * fused layer's attention probabilities, which the graph holds about four times over (scores,
 * softmax, the edited target slice, the concatenation), plus the live activations of the largest
 * level (≈ 40 tensors of C·h·w floats per frame). It decides the default chunk size; the
 * `bench:fatezero` benchmark measures the real figures.
 */
export const estimateEditStepBytes = (input: MemoryEstimateInput): number => {
	const groups = (input.mode === 'recompute' ? 1 : 0) + 2 * input.targets;
	const frames = groups * input.batchFrames;
	let probabilities = 0;
	for (const layer of input.plan.fused) {
		const keys = layer.kind === 'cross' ? 77 : layer.queryTokens * input.references;
		probabilities = Math.max(probabilities, layer.heads * layer.queryTokens * keys * 4);
	}
	const activations = input.baseChannels * input.latentHeight * input.latentWidth * 4 * 40;
	return frames * (4 * probabilities + activations);
};
