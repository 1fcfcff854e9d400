import {decodeLatents, encodeFrames} from '../diffusion/vae-codec.js';
import {encodePrompts} from '../diffusion/encode-prompts.js';
import {throwIfAborted, type OnProgress} from '../diffusion/progress.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {planChunks, type ChunkBatch} from './chunk-plan.js';
import {editClip} from './edit-clip.js';
import {buildFateZeroTargets, type FateZeroEdit} from './fatezero-edit.js';
import type {FateZeroTarget} from './fatezero-target.js';
import {invertClip, type ClipInversion} from './invert-clip.js';
import type {FateZeroEngine} from './load-fatezero.js';
import {chooseChunkSize, memoryBudgetBytes, type EngineMemoryShape} from './memory-budget.js';
import {ENGINE_DEFAULTS} from '../clip/engine-defaults.js';
import {ATTENTION_PRESETS, type ReferenceFrameSpec} from '../clip/reference-frames.js';

// The one implementation of FateZero's stages (fatezero-spec §1.1). runFateZero, the clip job,
// `fatezero edit` and the distributed workers all call these, so a fix or a default lands in one
// place and every caller gets the same warnings.

export const DEFAULT_ATTENTION: readonly ReferenceFrameSpec[] = ATTENTION_PRESETS[ENGINE_DEFAULTS.attention];

export type ClipPlanRequest = {
	engine: EngineMemoryShape;
	frameCount: number;
	steps: number;
	/** Prompts edited in one batch (the editing step's memory grows with them). */
	editCount: number;
	/** Spatial-temporal references (SparseCausalAttention_index). Default ['mid']. */
	attention?: readonly ReferenceFrameSpec[];
	/** Frames per UNet batch. Default: the whole clip when it fits the memory budget. */
	chunkSizeInFrames?: number | null;
	/** Working memory allowed beyond the weights. Default: 60 % of RAM. */
	memoryBudgetInMegabytes?: number;
};

export type ClipPlan = {
	/** The resolved chunk size: it changes pixels (chunks approximate the whole-clip batch), so it is part of the content keys. */
	chunkSizeInFrames: number;
	chunks: ChunkBatch[];
	attention: readonly ReferenceFrameSpec[];
};

/**
 * The chunk plan under the memory budget. Pure: it needs the engine's memory shape only, so the
 * clip job resolves it (for its keys) before any weights are loaded, from the model's config.
 */
export const planClip = (request: ClipPlanRequest): ClipPlan => {
	const attention = request.attention ?? DEFAULT_ATTENTION;
	const chunkSizeInFrames = chooseChunkSize({...request, attention}, memoryBudgetBytes(request.memoryBudgetInMegabytes));
	return {chunkSizeInFrames, chunks: planChunks(request.frameCount, chunkSizeInFrames, attention), attention};
};

/** The prompts' text states and each target's controller data, with every warning a caller must show. */
export type PromptStage = {
	unconditionalText: Float32Array;
	sourceText: Float32Array;
	targetTexts: Float32Array[];
	/** [1, 77, D]. */
	textShape: [number, number, number];
	targets: FateZeroTarget[];
	/** Prompt truncation (the tokenizer) and the controllers' word warnings, in that order. */
	warnings: string[];
};

/** Stage 1: encode "", the source and every target prompt; build and check each target's controller. */
export const promptStage = async (options: {engine: FateZeroEngine; sourcePrompt: string; edits: FateZeroEdit[]; steps: number}): Promise<PromptStage> => {
	const {engine, sourcePrompt, edits, steps} = options;
	if (edits.length === 0) throw new FateZeroError('INVALID_OPTION', 'edits is empty: give at least one editing prompt.');
	const {targets, warnings: targetWarnings} = buildFateZeroTargets(engine, sourcePrompt, edits, steps);
	const prompts = ['', sourcePrompt, ...edits.map((e) => e.prompt)];
	const text = await encodePrompts(engine.textEncoder, engine.tokenizer, prompts);
	const row = text.shape[1] * text.shape[2];
	const states = prompts.map((_, i) => text.states.slice(i * row, (i + 1) * row));
	return {
		unconditionalText: states[0],
		sourceText: states[1],
		targetTexts: states.slice(2),
		textShape: [1, text.shape[1], text.shape[2]],
		targets,
		warnings: [...text.warnings, ...targetWarnings],
	};
};

export type EncodedClip = {
	/** z0 = scaling · E(x).mean, [F, 4, h, w]. */
	latents: Float32Array;
	latentShape: [number, number, number, number];
};

/** Stage 2: VAE-encode the frames ([F, 3, S, S] in [-1, 1] at the engine's size). */
export const encodeStage = async (options: {engine: FateZeroEngine; pixels: Float32Array; frameCount: number; signal?: AbortSignal}): Promise<EncodedClip> => {
	const {engine, frameCount} = options;
	if (!Number.isInteger(frameCount) || frameCount < 1) throw new FateZeroError('INVALID_INPUT', `The clip has ${frameCount} frames; FateZero needs at least one.`);
	const size = engine.sizeInPixels;
	if (options.pixels.length !== frameCount * 3 * size * size) {
		throw new FateZeroError('INVALID_INPUT', `The frames hold ${options.pixels.length} values; ${frameCount} frames at ${size}² RGB need ${frameCount * 3 * size * size}. Load them at the engine's size.`);
	}
	const encoded = await encodeFrames(engine.vaeEncoder, options.pixels, [frameCount, 3, size, size], {scalingFactor: engine.model.vae.config.scalingFactor});
	throwIfAborted(options.signal);
	return {latents: encoded.latents, latentShape: encoded.latentShape as [number, number, number, number]};
};

export type InvertStageOptions = Omit<ClipPlanRequest, 'engine' | 'frameCount'> & {
	engine: FateZeroEngine;
	clip: EncodedClip;
	/** [1, 77, D] source prompt states (PromptStage.sourceText). */
	sourceText: Float32Array;
	textShape: [number, number, number];
	/** Called with the clip's latents after each inversion step (live previews). */
	onStepLatents?: (step: number, latents: Float32Array) => void;
	onProgress?: OnProgress;
	signal?: AbortSignal;
};

/** Stage 3: plan the chunks under the memory budget, then DDIM-invert under the source prompt. */
export const invertStage = async (options: InvertStageOptions): Promise<{inversion: ClipInversion; plan: ClipPlan}> => {
	const {engine, clip} = options;
	const plan = planClip({...options, frameCount: clip.latentShape[0]});
	const inversion = await invertClip({
		unet: engine.unet,
		plan: engine.plan,
		mode: engine.attentionSource,
		scheduler: engine.scheduler,
		latents: clip.latents,
		latentShape: clip.latentShape,
		sourceText: options.sourceText,
		textShape: options.textShape,
		chunks: plan.chunks,
		steps: options.steps,
		storagePrecision: engine.storagePrecision,
		onStepLatents: options.onStepLatents,
		onProgress: options.onProgress,
		signal: options.signal,
	});
	return {inversion, plan};
};

export type EditStageOptions = {
	engine: FateZeroEngine;
	/** The inversion (its chunk plan is the edit's: chunks advance in lockstep from the same batches). */
	inversion: ClipInversion;
	latentShape: [number, number, number, number];
	prompts: PromptStage;
	/** Classifier-free guidance. */
	guidance: number;
	steps: number;
	onStepLatents?: (step: number, latents: Float32Array[]) => void;
	onProgress?: OnProgress;
	signal?: AbortSignal;
};

/** Stage 4: fused editing of every target in one batch per chunk; one latent clip per target. */
export const editStage = async (options: EditStageOptions): Promise<Float32Array[]> => {
	const {engine, prompts} = options;
	if (!Number.isFinite(options.guidance)) throw new FateZeroError('INVALID_OPTION', `guidance is ${options.guidance}; give a number such as 7.5.`);
	return editClip({
		unet: engine.unet,
		plan: engine.plan,
		mode: engine.attentionSource,
		scheduler: engine.scheduler,
		inversion: options.inversion,
		latentShape: options.latentShape,
		targets: prompts.targets,
		unconditionalText: prompts.unconditionalText,
		sourceText: prompts.sourceText,
		targetTexts: prompts.targetTexts,
		textShape: prompts.textShape,
		guidance: options.guidance,
		steps: options.steps,
		onStepLatents: options.onStepLatents,
		onProgress: options.onProgress,
		signal: options.signal,
	});
};

/** Stage 5: decode one latent clip to frames [F, S, S, 3] in [0, 1]. */
export const decodeStage = async (options: {engine: FateZeroEngine; latents: Float32Array; latentShape: [number, number, number, number]; signal?: AbortSignal}): Promise<{frames: Float32Array; height: number; width: number}> => {
	throwIfAborted(options.signal);
	return decodeLatents(options.engine.vaeDecoder, options.latents, options.latentShape, {scalingFactor: options.engine.model.vae.config.scalingFactor});
};
