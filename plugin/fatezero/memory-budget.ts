import {ENGINE_DEFAULTS} from '../clip/engine-defaults.js';
import os from 'node:os';
import {FateZeroError} from '../errors/fatezero-error.js';
import {planChunks} from './chunk-plan.js';
import {estimateEditStepBytes, estimateStoredAttentionBytes} from './estimate-memory.js';
import type {UnetConfig} from '../model/component-configs.js';
import {DEFAULT_MAX_ATTENTION_MAP_ELEMENTS_PER_FRAME} from './fusion-graph-hook.js';
import {DEFAULT_STORAGE_PRECISION, type FusionMode, type StoragePrecision} from './fusion-io.js';
import {OFFICIAL_FUSION_MAX_QUERY_TOKENS, planFusion} from './fusion-plan.js';
import {DEFAULT_LEAST_SC_CHANNEL, type FateZeroEngine} from './load-fatezero.js';
import type {ReferenceFrameSpec} from '../clip/reference-frames.js';

/** The working memory allowed beyond the weights: the option, else 60 % of RAM. */
export const memoryBudgetBytes = (memoryBudgetInMegabytes: number | undefined): number => (memoryBudgetInMegabytes ?? (os.totalmem() * ENGINE_DEFAULTS.memoryBudgetShareOfRam) / 2 ** 20) * 2 ** 20;

/** What the memory plan reads from an engine (a plan made before loading one works too: chooseAttentionSource). */
export type EngineMemoryShape = Pick<FateZeroEngine, 'plan' | 'attentionSource' | 'sizeInPixels' | 'latentSize' | 'maxAttentionMapElementsPerFrame' | 'storagePrecision' | 'leastScChannel'> & {
	model: {unet: {config: {blockOutChannels: readonly number[]}}};
};

export type ChunkSizeRequest = {
	engine: EngineMemoryShape;
	frameCount: number;
	/** Spatial-temporal references. Default ['mid']. */
	attention?: readonly ReferenceFrameSpec[];
	/** A chunk size the caller chose (checked against the budget); null or absent: the largest that fits. */
	chunkSizeInFrames?: number | null;
	editCount: number;
	steps: number;
};

/**
 * Default chunk size: the whole clip if it fits the budget, else the largest chunk that does. What
 * must fit: one editing step's working memory and, in stored mode, every step's kept queries/keys
 * (which grow slightly with smaller chunks: extra reference frames are stored per chunk). A chunk
 * size the caller chose is checked against the same estimate.
 */
export const chooseChunkSize = (options: ChunkSizeRequest, budgetBytes: number): number => {
	const {engine, frameCount} = options;
	const attention = options.attention ?? ['mid'];
	const stepBytes = (chunk: number) =>
		estimateEditStepBytes({
			plan: engine.plan,
			mode: engine.attentionSource,
			batchFrames: Math.min(frameCount, chunk + attention.length),
			targets: options.editCount,
			baseChannels: engine.model.unet.config.blockOutChannels[0],
			latentHeight: engine.latentSize,
			latentWidth: engine.latentSize,
			maxAttentionMapElementsPerFrame: engine.maxAttentionMapElementsPerFrame,
		});
	const storedBytes = (chunk: number) =>
		engine.attentionSource !== 'stored'
			? 0
			: estimateStoredAttentionBytes({
					plan: engine.plan,
					batchFrames: planChunks(frameCount, chunk, attention).reduce((sum, batch) => sum + batch.frames.length, 0),
					steps: options.steps,
					references: attention.length,
					leastScChannel: engine.leastScChannel,
					storagePrecision: engine.storagePrecision,
				});
	const estimate = (chunk: number) => stepBytes(chunk) + storedBytes(chunk);
	const mb = (bytes: number) => Math.ceil(bytes / 2 ** 20);
	const budgetMb = Math.floor(budgetBytes / 2 ** 20);
	const storedAdvice = () => `Stored attention keeps every inversion step's queries/keys (about ${mb(storedBytes(Math.min(options.chunkSizeInFrames ?? frameCount, frameCount)))} MB for ${options.steps} steps here): load the engine with attentionSource 'recompute' (kilobytes per step), use fewer steps or frames, or raise the budget.`;
	const requested = options.chunkSizeInFrames ?? null;
	if (requested !== null) {
		if (estimate(requested) > budgetBytes) {
			throw new FateZeroError(
				'INVALID_OPTION',
				`chunkSizeInFrames ${requested} needs about ${mb(estimate(requested))} MB ${engine.attentionSource === 'stored' ? 'with the kept queries/keys' : 'per editing step'}, more than memoryBudgetInMegabytes ${budgetMb}. ${
					storedBytes(requested) > budgetBytes / 2 ? storedAdvice() : 'Lower the chunk size, leave it out to pick one that fits, or raise the budget.'
				}`,
			);
		}
		return requested;
	}
	if (estimate(frameCount) <= budgetBytes) return frameCount;
	for (let size = frameCount - 1; size >= 1; size--) if (estimate(size) <= budgetBytes) return size;
	if (storedBytes(frameCount) > budgetBytes / 2) {
		throw new FateZeroError('INVALID_OPTION', `Editing ${frameCount} frames at ${engine.sizeInPixels}² needs more than memoryBudgetInMegabytes ${budgetMb}, even with 1 frame per chunk. ${storedAdvice()}`);
	}
	throw new FateZeroError(
		'INVALID_OPTION',
		`One editing step needs about ${mb(estimate(1))} MB even with 1 frame per chunk (${options.editCount} prompts at ${engine.sizeInPixels}²), but memoryBudgetInMegabytes is ${budgetMb}. Raise the budget, edit fewer prompts at once, or use a smaller size.`,
	);
};

export type EngineShapeRequest = {
	unetConfig: UnetConfig;
	sizeInPixels: number;
	attentionSource: FusionMode;
	/** The same engine options loadFateZero takes (their defaults when left out). */
	leastScChannel?: number;
	fusionMaxQueryTokens?: number;
	storagePrecision?: StoragePrecision;
	maxAttentionMapElementsPerFrame?: number;
};

/** The memory shape of the engine loadFateZero would load with these options, from the model's config alone (no weights). */
export const engineMemoryShape = (request: EngineShapeRequest): EngineMemoryShape => {
	const latentSize = request.sizeInPixels / 8;
	return {
		plan: planFusion(request.unetConfig, latentSize, latentSize, request.fusionMaxQueryTokens ?? OFFICIAL_FUSION_MAX_QUERY_TOKENS),
		attentionSource: request.attentionSource,
		sizeInPixels: request.sizeInPixels,
		latentSize,
		maxAttentionMapElementsPerFrame: request.maxAttentionMapElementsPerFrame ?? DEFAULT_MAX_ATTENTION_MAP_ELEMENTS_PER_FRAME,
		storagePrecision: request.storagePrecision ?? DEFAULT_STORAGE_PRECISION,
		leastScChannel: request.leastScChannel ?? DEFAULT_LEAST_SC_CHANNEL,
		model: {unet: {config: request.unetConfig}},
	};
};
