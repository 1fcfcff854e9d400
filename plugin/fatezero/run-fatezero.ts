import os from 'node:os';
import {decodeLatents, encodeFrames} from '../diffusion/vae-codec.js';
import {encodePrompts} from '../diffusion/encode-prompts.js';
import {throwIfAborted, type OnProgress} from '../diffusion/progress.js';
import {FateZeroError} from '../errors/fatezero-error.js';
import {planChunks} from './chunk-plan.js';
import {editClip} from './edit-clip.js';
import {estimateEditStepBytes, estimateStoredAttentionBytes} from './estimate-memory.js';
import type {FateZeroTarget} from './fatezero-target.js';
import {invertClip, type ClipInversion} from './invert-clip.js';
import type {FateZeroEngine} from './load-fatezero.js';
import {buildPromptEdit} from './prompt-to-prompt/build-prompt-edit.js';
import type {BlendWords} from './prompt-to-prompt/blend-words.js';
import type {ControllerOption} from './prompt-to-prompt/choose-controller.js';
import type {ReweightOptions} from './prompt-to-prompt/equalizer.js';
import type {CrossReplaceSteps, StepWindow} from './prompt-to-prompt/time-windows.js';
import type {ReferenceFrameSpec} from './reference-frames.js';

/** One editing prompt and its official p2p_config knobs. */
export type FateZeroEdit = {
	prompt: string;
	/** cross_replace_steps. Default 0.8. */
	crossReplace?: CrossReplaceSteps;
	/** self_replace_steps. Default 0.8. */
	selfReplace?: StepWindow;
	/** eq_params {words, values}. */
	reweight?: ReweightOptions | null;
	/** blend_words [[source words], [target words]]. */
	blendWords?: BlendWords | null;
	/** blend_th[0]. Default 0.3. */
	blendThreshold?: number;
	/** blend_self_attention. Default: true when blend words are given. */
	blendSelfAttention?: boolean;
	/** blend_latents. Default false. */
	latentBlend?: boolean;
	/** 'auto' (official: Replace for equal word counts, else Refine). */
	controller?: ControllerOption;
};

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

/** The working memory allowed beyond the weights: the option, else 60 % of RAM. */
export const memoryBudgetBytes = (memoryBudgetInMegabytes: number | undefined): number => (memoryBudgetInMegabytes ?? (os.totalmem() * 0.6) / 2 ** 20) * 2 ** 20;

/** What the memory plan reads from an engine (a plan made before loading one works too: chooseAttentionSource). */
export type EngineMemoryShape = Pick<FateZeroEngine, 'plan' | 'attentionSource' | 'sizeInPixels' | 'latentSize' | 'maxAttentionMapElementsPerFrame' | 'storagePrecision' | 'leastScChannel'> & {
	model: {unet: {config: {blockOutChannels: readonly number[]}}};
};

export type ChunkSizeRequest = Pick<RunFateZeroOptions, 'frameCount' | 'attention' | 'chunkSizeInFrames'> & {engine: EngineMemoryShape; editCount: number; steps: number};

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

/** Each edit's controller data (make_controller, spec §2.1), checked, with the warnings the official code would stay silent about. */
export const buildFateZeroTargets = (
	engine: Pick<FateZeroEngine, 'tokenizer'>,
	sourcePrompt: string,
	edits: FateZeroEdit[],
	steps: number,
): {targets: FateZeroTarget[]; warnings: string[]} => {
	const warnings: string[] = [];
	const targets = edits.map((edit): FateZeroTarget => {
		const promptEdit = buildPromptEdit({
			tokenizer: engine.tokenizer,
			source: sourcePrompt,
			target: edit.prompt,
			crossReplace: edit.crossReplace ?? 0.8,
			selfReplace: edit.selfReplace ?? 0.8,
			reweight: edit.reweight ?? null,
			blendWords: edit.blendWords ?? null,
			controller: edit.controller,
			steps,
		});
		warnings.push(...promptEdit.warnings.map((w) => `"${edit.prompt}": ${w}`));
		const blendThreshold = edit.blendThreshold ?? 0.3;
		if (!Number.isFinite(blendThreshold)) throw new FateZeroError('INVALID_OPTION', `blendThreshold is ${blendThreshold}; give a number (0.3 is the official default; ≥ 1 keeps the source everywhere).`);
		return {
			prompt: edit.prompt,
			edit: promptEdit,
			blendThreshold,
			blendSelfAttention: edit.blendSelfAttention ?? (edit.blendWords ?? null) !== null,
			latentBlend: edit.latentBlend ?? false,
		};
	});
	return {targets, warnings};
};

/**
 * FateZero end to end on one clip (fatezero-spec §1.1): 1. encode prompts, 2. VAE-encode the frames
 * (latent mean), 3. DDIM inversion under the source prompt, recording what fusion needs,
 * 4. fused editing for every prompt at once, 5. decode. Chunks advance in lockstep.
 */
export const runFateZero = async (options: RunFateZeroOptions): Promise<FateZeroResult> => {
	const {engine, frameCount, steps = 50, guidance = 7.5} = options;
	if (!Number.isInteger(frameCount) || frameCount < 1) throw new FateZeroError('INVALID_INPUT', `The clip has ${frameCount} frames; FateZero needs at least one.`);
	if (options.edits.length === 0) throw new FateZeroError('INVALID_OPTION', 'edits is empty: give at least one editing prompt.');
	if (!Number.isFinite(guidance)) throw new FateZeroError('INVALID_OPTION', `guidance is ${guidance}; give a number such as 7.5.`);
	const size = engine.sizeInPixels;
	if (options.pixels.length !== frameCount * 3 * size * size) {
		throw new FateZeroError('INVALID_INPUT', `The frames hold ${options.pixels.length} values; ${frameCount} frames at ${size}² RGB need ${frameCount * 3 * size * size}. Load them at the engine's size.`);
	}
	const attention = options.attention ?? ['mid'];
	const budget = memoryBudgetBytes(options.memoryBudgetInMegabytes);
	const chunkSize = chooseChunkSize({...options, editCount: options.edits.length, steps}, budget);
	const chunks = planChunks(frameCount, chunkSize, attention);
	const timings = {encode: 0, invert: 0, edit: 0, decode: 0};
	let clock = performance.now();
	const lap = (key: keyof typeof timings) => {
		const now = performance.now();
		timings[key] += now - clock;
		clock = now;
	};

	// 1. prompts: "", source, targets; and each target's controller data
	const prompts = ['', options.sourcePrompt, ...options.edits.map((e) => e.prompt)];
	const text = await encodePrompts(engine.textEncoder, engine.tokenizer, prompts);
	const row = text.shape[1] * text.shape[2];
	const states = prompts.map((_, i) => text.states.slice(i * row, (i + 1) * row));
	const {targets, warnings: targetWarnings} = buildFateZeroTargets(engine, options.sourcePrompt, options.edits, steps);
	const warnings = [...text.warnings, ...targetWarnings];

	// 2. z0 = 0.18215 · E(x).mean
	const scalingFactor = engine.model.vae.config.scalingFactor;
	const {latents: z0, latentShape} = await encodeFrames(engine.vaeEncoder, options.pixels, [frameCount, 3, size, size], {scalingFactor});
	throwIfAborted(options.signal);
	lap('encode');

	// 3. inversion
	const common = {unet: engine.unet, plan: engine.plan, mode: engine.attentionSource, scheduler: engine.scheduler, latentShape, textShape: [1, text.shape[1], text.shape[2]] as [number, number, number]};
	const inversion = await invertClip({...common, latents: z0, sourceText: states[1], chunks, steps, storagePrecision: engine.storagePrecision, onProgress: options.onProgress, signal: options.signal});
	lap('invert');

	// 4. editing, all prompts in one batch per chunk
	const edited = await editClip({
		...common,
		inversion,
		targets,
		unconditionalText: states[0],
		sourceText: states[1],
		targetTexts: states.slice(2),
		guidance,
		steps,
		onProgress: options.onProgress,
		signal: options.signal,
	});
	lap('edit');

	// 5. frames
	const results: FateZeroResult['edited'] = [];
	for (const [i, latents] of edited.entries()) {
		throwIfAborted(options.signal);
		const frames = options.decode === false ? null : (await decodeLatents(engine.vaeDecoder, latents, latentShape, {scalingFactor})).frames;
		results.push({prompt: targets[i].prompt, latents, frames, controller: targets[i].edit.controller});
		options.onProgress?.({stage: 'vae-decode', step: i + 1, total: edited.length});
	}
	lap('decode');
	return {invertedLatents: inversion.latents[steps], inversion, edited: results, chunkSizeInFrames: chunkSize, warnings, timingsMs: timings};
};
