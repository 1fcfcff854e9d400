import type {UnetConfig} from '../model/component-configs.js';
import type {ClipPlanRequest} from './engine-stages.js';
import type {FusionMode, StoragePrecision} from './fusion-io.js';
import {chooseChunkSize, engineMemoryShape, memoryBudgetBytes} from './memory-budget.js';

/** A clip plan's request (frames, steps, edits, attention, chunk size, budget), with the engine described by its config instead of loaded. */
export type AttentionSourceRequest = Omit<ClipPlanRequest, 'engine'> & {
	unetConfig: UnetConfig;
	sizeInPixels: number;
	/** The same engine options loadFateZero takes (their defaults when left out). */
	leastScChannel?: number;
	fusionMaxQueryTokens?: number;
	storagePrecision?: StoragePrecision;
	maxAttentionMapElementsPerFrame?: number;
};

export type AttentionSourceChoice = {attentionSource: FusionMode; chunkSizeInFrames: number; reason: string};

/**
 * The attention source for a run, chosen by the memory budget before any weights are loaded (the
 * mode decides the UNet graph): 'stored' when every inversion step's queries/keys fit beside the
 * editing step at the chunk size recompute mode would use — it skips the extra batch element, so
 * each editing step is faster — else 'recompute', whose memory does not grow with the steps.
 * Throws (INVALID_OPTION) only when not even recompute mode fits.
 */
export const chooseAttentionSource = (request: AttentionSourceRequest): AttentionSourceChoice => {
	const engine = (attentionSource: FusionMode) => engineMemoryShape({...request, attentionSource});
	const budget = memoryBudgetBytes(request.memoryBudgetInMegabytes);
	const common = {frameCount: request.frameCount, steps: request.steps, editCount: request.editCount, attention: request.attention};
	const chunk = chooseChunkSize({...common, engine: engine('recompute'), chunkSizeInFrames: request.chunkSizeInFrames ?? null}, budget);
	const budgetMb = Math.floor(budget / 2 ** 20);
	try {
		chooseChunkSize({...common, engine: engine('stored'), chunkSizeInFrames: chunk}, budget);
		return {attentionSource: 'stored', chunkSizeInFrames: chunk, reason: `the inversion's queries/keys for ${request.steps} steps fit the memory budget (${budgetMb} MB)`};
	} catch {
		return {attentionSource: 'recompute', chunkSizeInFrames: chunk, reason: `keeping the inversion's queries/keys for ${request.steps} steps would exceed the memory budget (${budgetMb} MB)`};
	}
};
