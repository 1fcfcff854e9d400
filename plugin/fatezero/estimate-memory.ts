import type {FusionMode, StoragePrecision} from './fusion-io.js';
import {headsPerMapSlice} from './fusion-graph-hook.js';
import type {FusionPlan} from './fusion-plan.js';

export type MemoryEstimateInput = {
	plan: FusionPlan;
	mode: FusionMode;
	/** Frames in one UNet batch (a chunk plus its extra reference frames). */
	batchFrames: number;
	targets: number;
	/** Channels of the UNet's first level (320 for SD-1.x); activations scale with it. */
	baseChannels: number;
	latentHeight: number;
	latentWidth: number;
	/** The engine's bound on one slice of explicit maps (LoadFateZeroOptions.maxAttentionMapElementsPerFrame). */
	maxAttentionMapElementsPerFrame: number;
};

/**
 * Rough peak working memory of one editing UNet call, in bytes (weights excluded). Two terms per
 * frame of the batch: the live activations of the largest level (≈ 16 tensors of C·h·w floats,
 * fitted to `npm run bench:fatezero` with the feed-forward sliced by tokens), and one head slice of
 * the largest fused cross-attention layer's explicit maps (77 keys; self-attention fusion builds
 * none), for the source and every target group, held about four times over (scores, softmax, the
 * edit's temporaries). It decides the default chunk size; the
 * benchmark measures the real figures.
 */
export const estimateEditStepBytes = (input: MemoryEstimateInput): number => {
	const batchGroups = (input.mode === 'recompute' ? 1 : 0) + 2 * input.targets;
	const mapGroups = 1 + input.targets;
	let sliceMap = 0;
	for (const layer of input.plan.fused) {
		if (layer.kind !== 'cross') continue; // self-attention fusion builds no explicit maps
		const heads = headsPerMapSlice(layer.heads, layer.queryTokens, 77, input.maxAttentionMapElementsPerFrame);
		sliceMap = Math.max(sliceMap, heads * layer.queryTokens * 77 * 4);
	}
	const activations = input.baseChannels * input.latentHeight * input.latentWidth * 4 * 16;
	return input.batchFrames * (batchGroups * activations + mapGroups * 4 * sliceMap);
};

export type StoredAttentionEstimateInput = {
	plan: FusionPlan;
	/** Frames of every UNet batch of the clip together (chunks plus their extra reference frames). */
	batchFrames: number;
	steps: number;
	/** Reference frames per query frame in the spatial-temporal layers (1 for 'mid', 2 for [-1, 'first']). */
	references: number;
	/** Self-attention layers with at least this many channels read the reference frames (their keys are references × queries long). */
	leastScChannel: number;
	storagePrecision: StoragePrecision;
};

/**
 * What stored mode keeps until editing (exact, not fitted): every inversion step's source queries
 * of the fused layers and, for self-attention, their keys, per batch frame, at the storage
 * precision. At 256² × 8 frames × fp16 this is 132 MB per step, as the benchmark measures.
 */
export const estimateStoredAttentionBytes = (input: StoredAttentionEstimateInput): number => {
	let perFrame = 0;
	for (const layer of input.plan.fused) {
		perFrame += layer.queryTokens * layer.channels;
		if (layer.kind === 'self') perFrame += layer.queryTokens * (layer.channels >= input.leastScChannel ? input.references : 1) * layer.channels;
	}
	return input.steps * input.batchFrames * perFrame * (input.storagePrecision === 'float16' ? 2 : 4);
};
