import type {OnProgress} from '../diffusion/progress.js';
import {chwToHwc} from '../media/chw-to-hwc.js';
import {psnr} from '../media/psnr.js';
import type {ReferenceFrameSpec} from '../clip/reference-frames.js';
import {decodeStage, editStage, encodeStage, invertStage, promptStage} from './engine-stages.js';
import type {FateZeroEngine} from './load-fatezero.js';

export type ReconstructClipOptions = {
	engine: FateZeroEngine;
	/** [F, 3, S, S] in [-1, 1] at the engine's size. */
	pixels: Float32Array;
	frameCount: number;
	prompt: string;
	steps: number;
	attention?: readonly ReferenceFrameSpec[];
	memoryBudgetInMegabytes?: number;
	onProgress?: OnProgress;
	signal?: AbortSignal;
};

export type ClipReconstruction = {
	/** [F, S, S, 3] in [0, 1]: the decoded reconstruction. */
	reconstructed: Float32Array;
	/** [F, S, S, 3] in [0, 1]: VAE decode of z0 (what a perfect inversion could give at best). */
	vaeRoundTrip: Float32Array;
	/** [F, S, S, 3] in [0, 1]: the input frames. */
	input: Float32Array;
	psnrVsInputDb: number;
	psnrVaeRoundTripDb: number;
	/** RMSE between the reconstructed z0 and the encoded z0 (latent space). */
	latentRmse: number;
	chunkSizeInFrames: number;
	timingsMs: Record<'encode' | 'invert' | 'denoise' | 'decode', number>;
	warnings: string[];
};

/**
 * The engine's self-test through the same stages every edit runs: encode, invert under the prompt,
 * then "edit" towards the same prompt at guidance 1 (the official configs' index-0 prompt, a
 * reconstruction) and decode, measuring how close the result is to the input. With real SD weights
 * and enough steps this is near the VAE's own round trip; a random-weight model does not reconstruct.
 */
export const reconstructClip = async (options: ReconstructClipOptions): Promise<ClipReconstruction> => {
	const {engine, frameCount, steps, signal} = options;
	const timings = {encode: 0, invert: 0, denoise: 0, decode: 0};
	const timed = async <T>(key: keyof typeof timings, fn: () => Promise<T>): Promise<T> => {
		const start = performance.now();
		const result = await fn();
		timings[key] += performance.now() - start;
		return result;
	};
	const prompts = await timed('encode', () => promptStage({engine, sourcePrompt: options.prompt, edits: [{prompt: options.prompt}], steps}));
	const clip = await timed('encode', () => encodeStage({engine, pixels: options.pixels, frameCount, signal}));
	const {inversion, plan} = await timed('invert', () =>
		invertStage({
			engine,
			clip,
			sourceText: prompts.sourceText,
			textShape: prompts.textShape,
			steps,
			editCount: 1,
			attention: options.attention,
			memoryBudgetInMegabytes: options.memoryBudgetInMegabytes,
			onProgress: options.onProgress,
			signal,
		}),
	);
	const [latents] = await timed('denoise', () => editStage({engine, inversion, latentShape: clip.latentShape, prompts, guidance: 1, steps, onProgress: options.onProgress, signal}));
	const decoded = await timed('decode', () => decodeStage({engine, latents, latentShape: clip.latentShape, signal}));
	const roundTrip = await timed('decode', () => decodeStage({engine, latents: clip.latents, latentShape: clip.latentShape, signal}));
	options.onProgress?.({stage: 'vae-decode', step: 1, total: 1});
	const input = chwToHwc(options.pixels, frameCount, engine.sizeInPixels);
	let squared = 0;
	for (let i = 0; i < clip.latents.length; i++) squared += (latents[i] - clip.latents[i]) ** 2;
	return {
		reconstructed: decoded.frames,
		vaeRoundTrip: roundTrip.frames,
		input,
		psnrVsInputDb: psnr(decoded.frames, input),
		psnrVaeRoundTripDb: psnr(roundTrip.frames, input),
		latentRmse: Math.sqrt(squared / clip.latents.length),
		chunkSizeInFrames: plan.chunkSizeInFrames,
		timingsMs: timings,
		warnings: prompts.warnings,
	};
};
