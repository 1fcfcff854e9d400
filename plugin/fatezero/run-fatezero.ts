import {ENGINE_DEFAULTS} from '../clip/engine-defaults.js';
import {throwIfAborted, type OnProgress} from '../diffusion/progress.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {decodeStage, editStage, encodeStage, invertStage, planClip, promptStage} from './engine-stages.js';
import type {FateZeroEdit} from './fatezero-edit.js';
import type {ClipInversion} from './invert-clip.js';
import type {FateZeroEngine} from './load-fatezero.js';
import type {ReferenceFrameSpec} from '../clip/reference-frames.js';

// Moved to their own files; re-exported because callers and tests import them from here.
export {buildFateZeroTargets, type FateZeroEdit} from './fatezero-edit.js';
export {chooseChunkSize, memoryBudgetBytes, type ChunkSizeRequest, type EngineMemoryShape} from './memory-budget.js';

export type RunFateZeroOptions = {
	engine: FateZeroEngine;
	/** [F, 3, S, S] in [-1, 1], S = the engine's size. */
	pixels: Float32Array;
	frameCount: number;
	sourcePrompt: string;
	edits: FateZeroEdit[];
	/** DDIM steps. Default 50 (official). */
	steps?: number;
	/** Classifier-free guidance. Default 7.5. */
	guidance?: number;
	/** Spatial-temporal references (SparseCausalAttention_index). Default ['mid']. */
	attention?: readonly ReferenceFrameSpec[];
	/** Frames per UNet batch. Default: the whole clip when it fits memoryBudgetInMegabytes. */
	chunkSizeInFrames?: number | null;
	/** Working memory allowed beyond the weights. Default: 60 % of RAM. */
	memoryBudgetInMegabytes?: number;
	/** Decode the edited latents to frames. Default true. */
	decode?: boolean;
	onProgress?: OnProgress;
	signal?: AbortSignal;
};

export type FateZeroResult = {
	/** z_T [F, 4, h, w]. */
	invertedLatents: Float32Array;
	inversion: ClipInversion;
	edited: {prompt: string; latents: Float32Array; frames: Float32Array | null; controller: string}[];
	chunkSizeInFrames: number;
	warnings: string[];
	timingsMs: Record<'encode' | 'invert' | 'edit' | 'decode', number>;
};

/**
 * FateZero end to end on one clip (fatezero-spec §1.1): 1. encode prompts, 2. VAE-encode the frames
 * (latent mean), 3. DDIM inversion under the source prompt, recording what fusion needs,
 * 4. fused editing for every prompt at once, 5. decode. Chunks advance in lockstep.
 */
export const runFateZero = async (options: RunFateZeroOptions): Promise<FateZeroResult> => {
	const {engine, frameCount, steps = ENGINE_DEFAULTS.steps, guidance = ENGINE_DEFAULTS.guidance} = options;
	if (!Number.isInteger(frameCount) || frameCount < 1) throw new FateZeroError('INVALID_INPUT', `The clip has ${frameCount} frames; FateZero needs at least one.`);
	if (options.edits.length === 0) throw new FateZeroError('INVALID_OPTION', 'edits is empty: give at least one editing prompt.');
	if (!Number.isFinite(guidance)) throw new FateZeroError('INVALID_OPTION', `guidance is ${guidance}; give a number such as 7.5.`);
	const size = engine.sizeInPixels;
	if (options.pixels.length !== frameCount * 3 * size * size) {
		throw new FateZeroError('INVALID_INPUT', `The frames hold ${options.pixels.length} values; ${frameCount} frames at ${size}² RGB need ${frameCount * 3 * size * size}. Load them at the engine's size.`);
	}
	// fail on a budget that cannot fit before any model call
	planClip({engine, frameCount, steps, editCount: options.edits.length, attention: options.attention, chunkSizeInFrames: options.chunkSizeInFrames, memoryBudgetInMegabytes: options.memoryBudgetInMegabytes});
	const timings = {encode: 0, invert: 0, edit: 0, decode: 0};
	let clock = performance.now();
	const lap = (key: keyof typeof timings) => {
		const now = performance.now();
		timings[key] += now - clock;
		clock = now;
	};

	// 1. prompts: "", source, targets; and each target's controller data
	const prompts = await promptStage({engine, sourcePrompt: options.sourcePrompt, edits: options.edits, steps});
	// 2. z0 = 0.18215 · E(x).mean
	const clip = await encodeStage({engine, pixels: options.pixels, frameCount, signal: options.signal});
	lap('encode');

	// 3. inversion (chunks planned under the memory budget)
	const {inversion, plan} = await invertStage({
		engine,
		clip,
		sourceText: prompts.sourceText,
		textShape: prompts.textShape,
		steps,
		editCount: options.edits.length,
		attention: options.attention,
		chunkSizeInFrames: options.chunkSizeInFrames,
		memoryBudgetInMegabytes: options.memoryBudgetInMegabytes,
		onProgress: options.onProgress,
		signal: options.signal,
	});
	lap('invert');

	// 4. editing, all prompts in one batch per chunk
	const edited = await editStage({engine, inversion, latentShape: clip.latentShape, prompts, guidance, steps, onProgress: options.onProgress, signal: options.signal});
	lap('edit');

	// 5. frames
	const results: FateZeroResult['edited'] = [];
	for (const [i, latents] of edited.entries()) {
		throwIfAborted(options.signal);
		const frames = options.decode === false ? null : (await decodeStage({engine, latents, latentShape: clip.latentShape, signal: options.signal})).frames;
		results.push({prompt: prompts.targets[i].prompt, latents, frames, controller: prompts.targets[i].edit.controller});
		options.onProgress?.({stage: 'vae-decode', step: i + 1, total: edited.length});
	}
	lap('decode');
	return {invertedLatents: inversion.latents[steps], inversion, edited: results, chunkSizeInFrames: plan.chunkSizeInFrames, warnings: prompts.warnings, timingsMs: timings};
};
