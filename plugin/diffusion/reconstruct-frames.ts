import {decodeLatents, encodeFrames} from './vae-codec.js';
import {encodePrompts} from './encode-prompts.js';
import {invertLatents} from './ddim-inversion.js';
import {sampleLatents} from './ddim-sampling.js';
import {throwIfAborted, type OnProgress} from './progress.js';
import type {StableDiffusion} from './load-stable-diffusion.js';
import {psnr} from '../media/psnr.js';

export type ReconstructionOptions = {
	/** [F, 3, S, S] in [-1, 1]: the frames of one clip. */
	pixels: Float32Array;
	frames: number;
	size: number;
	prompt: string;
	steps: number;
	/** Reference-frame table for spatial-temporal attention (ignored by a per-frame UNet). */
	referenceFrames: number[][];
	onProgress?: OnProgress;
	signal?: AbortSignal;
};

export type Reconstruction = {
	/** [F, S, S, 3] in [0, 1]: VAE decode of the DDIM reconstruction. */
	reconstructed: Float32Array;
	/** [F, S, S, 3] in [0, 1]: VAE decode of z0 (what a perfect inversion could give at best). */
	vaeRoundTrip: Float32Array;
	/** [F, S, S, 3] in [0, 1]: the input frames. */
	input: Float32Array;
	psnrVsInputDb: number;
	psnrVaeRoundTripDb: number;
	/** RMSE between the reconstructed z0 and the encoded z0 (latent space). */
	latentRmse: number;
	timingsMs: Record<'encode' | 'invert' | 'denoise' | 'decode', number>;
	warnings: string[];
};

/**
 * The runtime's self-test: VAE-encode frames, DDIM-invert them under a prompt (guidance 1, as
 * FateZero inverts), sample back from z_T with the same prompt and guidance 1, decode, and
 * measure how close the result is to the input. With real SD weights and enough steps this is
 * near the VAE's own round trip; a random-weight model does not reconstruct.
 */
export const reconstructFrames = async (sd: StableDiffusion, options: ReconstructionOptions): Promise<Reconstruction> => {
	const {frames, size, steps} = options;
	const scalingFactor = sd.model.vae.config.scalingFactor;
	const timings = {encode: 0, invert: 0, denoise: 0, decode: 0};
	const timed = async <T>(key: keyof typeof timings, fn: () => Promise<T>): Promise<T> => {
		const start = performance.now();
		const result = await fn();
		timings[key] += performance.now() - start;
		return result;
	};

	// 1. z0 = 0.18215 · E(x), and the prompt's text states
	const {latents: z0, latentShape} = await timed('encode', () => encodeFrames(sd.vaeEncoder, options.pixels, [frames, 3, size, size], {scalingFactor}));
	const text = await timed('encode', () => encodePrompts(sd.textEncoder, sd.tokenizer, [options.prompt]));
	throwIfAborted(options.signal);

	// 2. inversion z0 -> z_T (fatezero-spec §1.3)
	const inversion = await timed('invert', () =>
		invertLatents({
			unet: sd.unet,
			scheduler: sd.scheduler,
			latents: z0,
			latentShape,
			sourceText: text.states,
			textShape: text.shape,
			referenceFrames: options.referenceFrames,
			steps,
			onProgress: options.onProgress,
			signal: options.signal,
		}),
	);

	// 3. DDIM sampling z_T -> z0' with the same prompt
	const zT = inversion.latents[steps];
	const reconstructedLatents = await timed('denoise', () =>
		sampleLatents({
			unet: sd.unet,
			scheduler: sd.scheduler,
			latents: zT,
			latentShape,
			text: text.states,
			textShape: text.shape,
			guidance: 1,
			referenceFrames: options.referenceFrames,
			steps,
			onProgress: options.onProgress,
			signal: options.signal,
		}),
	);

	// 4. decode both the reconstruction and z0 itself
	const decoded = await timed('decode', () => decodeLatents(sd.vaeDecoder, reconstructedLatents, latentShape, {scalingFactor}));
	const roundTrip = await timed('decode', () => decodeLatents(sd.vaeDecoder, z0, latentShape, {scalingFactor}));
	options.onProgress?.({stage: 'vae-decode', step: 1, total: 1});

	// [F, 3, S, S] in [-1, 1] -> [F, S, S, 3] in [0, 1], to compare with decoded frames
	const plane = size * size;
	const input = new Float32Array(frames * plane * 3);
	for (let f = 0; f < frames; f++)
		for (let c = 0; c < 3; c++)
			for (let p = 0; p < plane; p++) input[(f * plane + p) * 3 + c] = options.pixels[(f * 3 + c) * plane + p] / 2 + 0.5;

	let squared = 0;
	for (let i = 0; i < z0.length; i++) squared += (reconstructedLatents[i] - z0[i]) ** 2;
	return {
		reconstructed: decoded.frames,
		vaeRoundTrip: roundTrip.frames,
		input,
		psnrVsInputDb: psnr(decoded.frames, input),
		psnrVaeRoundTripDb: psnr(roundTrip.frames, input),
		latentRmse: Math.sqrt(squared / z0.length),
		timingsMs: timings,
		warnings: text.warnings,
	};
};
