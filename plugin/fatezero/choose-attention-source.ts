import type {UnetConfig} from '../model/component-configs.js';
import {DEFAULT_MAX_ATTENTION_MAP_ELEMENTS_PER_FRAME} from './fusion-graph-hook.js';
import {DEFAULT_STORAGE_PRECISION, type FusionMode, type StoragePrecision} from './fusion-io.js';
import {DEFAULT_LEAST_SC_CHANNEL} from './load-fatezero.js';
import {OFFICIAL_FUSION_MAX_QUERY_TOKENS, planFusion} from './fusion-plan.js';
import type {ReferenceFrameSpec} from './reference-frames.js';
import {chooseChunkSize, memoryBudgetBytes, type EngineMemoryShape} from './run-fatezero.js';

export type AttentionSourceRequest = {
	unetConfig: UnetConfig;
	sizeInPixels: number;
	frameCount: number;
	steps: number;
	editCount: number;
	attention?: readonly ReferenceFrameSpec[];
	chunkSizeInFrames?: number | null;
	memoryBudgetInMegabytes?: number;
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
	const latentSize = request.sizeInPixels / 8;
	const plan = planFusion(request.unetConfig, latentSize, latentSize, request.fusionMaxQueryTokens ?? OFFICIAL_FUSION_MAX_QUERY_TOKENS);
	const engine = (attentionSource: FusionMode): EngineMemoryShape => ({
		plan,
		attentionSource,
		sizeInPixels: request.sizeInPixels,
		latentSize,
		maxAttentionMapElementsPerFrame: request.maxAttentionMapElementsPerFrame ?? DEFAULT_MAX_ATTENTION_MAP_ELEMENTS_PER_FRAME,
		storagePrecision: request.storagePrecision ?? DEFAULT_STORAGE_PRECISION,
		leastScChannel: request.leastScChannel ?? DEFAULT_LEAST_SC_CHANNEL,
		model: {unet: {config: request.unetConfig}},
	});
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
