import type {DdimScheduler} from '../diffusion/ddim-scheduler.js';
import {decodeLatents} from '../diffusion/vae-codec.js';
import type {FateZeroEngine} from '../fatezero/load-fatezero.js';
import {encodePngFrames, toRgb8} from '../media/write-png-frames.js';

/** One decoded preview of a running job: the x0 prediction of one frame as PNG. */
export type JobPreview = {
	/** Which job (its label or the first 12 hex digits of its descriptor key, as in JobProgress). */
	job: string;
	stage: 'invert' | 'edit';
	/** The engine step (1-based) after which it was decoded, of `total`. */
	step: number;
	total: number;
	png: Uint8Array;
	/** What this preview cost: x0, the VAE decode and the PNG encoding. */
	costMs: number;
};

export type OnJobPreview = (preview: JobPreview) => void;

/**
 * Previews may take at most this share of the engine's time. The step interval k is not fixed:
 * a preview is decoded once the time spent on previews so far, plus the last decode's duration,
 * stays within this share of the engine time so far, so k adapts to the machine and the model.
 * The first step of each stage always gets one (feedback early, when the card has nothing else);
 * 4 % leaves room for those two within the 5 % budget of a full job (bench:studio reports it).
 */
export const PREVIEW_TIME_SHARE = 0.04;

/** The frame of the clip that previews show (frame 0, as the source preview before it). */
const PREVIEW_FRAME = 0;

/**
 * x0 of one DDIM trajectory from two of its latents. With eta = 0 both are
 * z = √ᾱ · x0 + √(1 − ᾱ) · ε with the same x0 and ε (DDIM formula (12), and FateZero's inversion
 * step run the other way), so two latents at different ᾱ determine x0 without the UNet's ε.
 */
export const x0FromLatentPair = (a: Float32Array, alphaA: number, b: Float32Array, alphaB: number): Float32Array => {
	const [sa, na, sb, nb] = [Math.sqrt(alphaA), Math.sqrt(1 - alphaA), Math.sqrt(alphaB), Math.sqrt(1 - alphaB)];
	const det = sa * nb - sb * na;
	const out = new Float32Array(a.length);
	for (let i = 0; i < a.length; i++) out[i] = (nb * a[i] - na * b[i]) / det;
	return out;
};

/** ᾱ before and after engine step `index` (0-based) of `steps`, as the scheduler steps it. */
const stepAlphas = (scheduler: DdimScheduler, stage: 'invert' | 'edit', index: number, steps: number): [number, number] => {
	const alpha = (t: number) => (t >= 0 ? scheduler.alphasCumprod[Math.min(t, 999)] : scheduler.finalAlphaCumprod);
	const ratio = scheduler.stepRatio;
	const descending = scheduler.timesteps(steps);
	if (stage === 'edit') {
		const t = descending[index];
		return [alpha(t), alpha(t - ratio)];
	}
	const t = descending[steps - 1 - index];
	return [alpha(t - ratio), alpha(t)];
};

export type StepPreviewOptions = {
	onPreview: OnJobPreview | undefined;
	job: string;
	engine: Pick<FateZeroEngine, 'scheduler' | 'vaeDecoder' | 'model'>;
	stage: 'invert' | 'edit';
	steps: number;
	/** The latents the stage starts from: z0 for the inversion, z_T for editing. */
	start: Float32Array;
	/** [F, 4, h, w] of the whole clip. */
	latentShape: [number, number, number, number];
	/** Default PREVIEW_TIME_SHARE. */
	timeShare?: number;
};

/**
 * The engine loop's onStepLatents for live previews: after a step it may decode the x0
 * prediction of one frame with the VAE decoder and hand the PNG to `onPreview`, within the time
 * share. Decoding runs beside the loop (never awaited by it) and its failures are dropped: a
 * preview never fails or delays a job beyond its share. Undefined when nobody listens.
 */
export const stepPreview = (options: StepPreviewOptions): ((step: number, latents: Float32Array | Float32Array[]) => void) | undefined => {
	const {onPreview, engine, stage, steps, latentShape} = options;
	if (!onPreview) return undefined;
	const share = options.timeShare ?? PREVIEW_TIME_SHARE;
	const [, channels, height, width] = latentShape;
	const frameSize = channels * height * width;
	const frame = (latents: Float32Array) => latents.subarray(PREVIEW_FRAME * frameSize, (PREVIEW_FRAME + 1) * frameSize);
	let previous = frame(options.start).slice();
	let engineMs = 0;
	let previewMs = 0;
	let lastDecodeMs = 0;
	let busy = false;
	let mark = performance.now();
	return (index, latents) => {
		const now = performance.now();
		engineMs += now - mark;
		mark = now;
		const current = frame(Array.isArray(latents) ? latents[0] : latents).slice();
		const before = previous;
		previous = current;
		// the edit's last step is followed by the full decode: no preview for it
		if (busy || (stage === 'edit' && index === steps - 1) || previewMs + lastDecodeMs > share * engineMs) return;
		busy = true;
		const started = performance.now();
		void (async () => {
			const [alphaBefore, alphaAfter] = stepAlphas(engine.scheduler, stage, index, steps);
			const x0 = x0FromLatentPair(before, alphaBefore, current, alphaAfter);
			const decoded = await decodeLatents(engine.vaeDecoder, x0, [1, channels, height, width], {scalingFactor: engine.model.vae.config.scalingFactor});
			const [png] = await encodePngFrames([toRgb8(decoded.frames, 0, decoded.height, decoded.width)], decoded.width, decoded.height);
			onPreview({job: options.job, stage, step: index + 1, total: steps, png, costMs: performance.now() - started});
		})()
			.catch(() => undefined)
			.finally(() => {
				lastDecodeMs = performance.now() - started;
				previewMs += lastDecodeMs;
				// the decode ran beside the engine: its time is not the engine's
				mark = Math.max(mark, performance.now());
				busy = false;
			});
	};
};
