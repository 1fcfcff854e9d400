import {FateZeroError} from '../errors/fatezero-error.js';
import {referenceFrameTable, type ReferenceFrameSpec} from '../clip/reference-frames.js';

/** One UNet batch of a chunked clip: its own frames, plus the reference frames it reads. */
export type ChunkBatch = {
	/** Global frame indices in batch order: the chunk's own frames first, then extra reference frames. */
	frames: number[];
	/** How many of `frames` belong to this chunk (their results are kept; the extras' are dropped). */
	ownCount: number;
	/** The `reference_frames` table over batch positions [R][frames.length]. */
	referenceFrames: number[][];
};

/**
 * Splits a clip into UNet batches of `chunkSizeInFrames` frames. Spatial-temporal attention reads
 * reference frames (e.g. the middle frame for every frame), so each batch also carries the
 * reference frames its own frames need; those extras enter with their current latents and their
 * outputs are discarded. All chunks advance in lockstep, step by step, so an extra frame always
 * carries exactly the latent its own chunk has at that step. What is approximate: the ResNet norms
 * pool statistics per batch instead of over the whole clip, and an extra frame whose own references
 * are not in the batch attends to itself. One chunk holding the whole clip is the exact mode.
 */
export const planChunks = (frameCount: number, chunkSizeInFrames: number, references: readonly ReferenceFrameSpec[]): ChunkBatch[] => {
	if (!Number.isInteger(chunkSizeInFrames) || chunkSizeInFrames < 1) {
		throw new FateZeroError('INVALID_OPTION', `chunkSizeInFrames is ${chunkSizeInFrames}; it must be a whole number of frames ≥ 1 (or leave it out to edit the whole clip in one batch).`);
	}
	const global = referenceFrameTable(references, frameCount); // [R][F]
	const chunks: ChunkBatch[] = [];
	for (let start = 0; start < frameCount; start += chunkSizeInFrames) {
		const own = Array.from({length: Math.min(chunkSizeInFrames, frameCount - start)}, (_, i) => start + i);
		const extras = [...new Set(global.flatMap((row) => own.map((f) => row[f])))].filter((f) => f < start || f >= start + own.length).sort((a, b) => a - b);
		const frames = [...own, ...extras];
		const local = new Map(frames.map((f, i) => [f, i]));
		const referenceFrames = global.map((row) => frames.map((f) => local.get(row[f]) ?? local.get(f)!));
		chunks.push({frames, ownCount: own.length, referenceFrames});
	}
	return chunks;
};

/** Copies the given frames (global indices) of a [F, ...] tensor into a new [frames.length, ...] one. */
export const gatherFrames = (tensor: Float32Array, frames: readonly number[], frameSize: number): Float32Array => {
	const out = new Float32Array(frames.length * frameSize);
	frames.forEach((f, i) => out.set(tensor.subarray(f * frameSize, (f + 1) * frameSize), i * frameSize));
	return out;
};

/** Writes the first `count` frames of a batch tensor back to their global positions. */
export const scatterFrames = (target: Float32Array, batch: Float32Array, frames: readonly number[], count: number, frameSize: number): void => {
	for (let i = 0; i < count; i++) target.set(batch.subarray(i * frameSize, (i + 1) * frameSize), frames[i] * frameSize);
};
