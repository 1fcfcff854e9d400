import path from 'node:path';
import {statSync} from 'node:fs';
import {FateZeroError} from '../errors/fatezero-error.js';
import {readFloatTensor, readSafetensorsIndex, type SafetensorsIndex} from '../model/safetensors-file.js';

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Which frames of the tensor: from `start`, every `stride`-th, `count` of them (null: all that fit). */
export type FramesTensorSelection = {start: number; count: number | null; stride: number};

// Messages name `fatezero edit`'s flags: the tensor input exists for it (frames preprocessed by the
// official pipeline, to compare with its runs exactly).
/** --frames-tensor: one tensor "images" [F, 3, S, S] in [-1, 1], then the frame selection. */
export const readFramesTensor = (file: string, size: number, sizeFrom: string, selection: FramesTensorSelection): {pixels: Float32Array; count: number; frames: number[]} => {
	const resolved = path.resolve(file);
	if (!statSync(resolved, {throwIfNoEntry: false})?.isFile()) {
		throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved} does not exist or is not a file. Pass a safetensors file with one F32 tensor "images" [F, 3, H, W] in [-1, 1].`);
	}
	let index: SafetensorsIndex;
	try {
		index = readSafetensorsIndex(resolved);
	} catch (error) {
		throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved} is not a readable safetensors file (${(error as Error).message})`, {cause: error});
	}
	const entry = index.tensors.get('images');
	if (!entry) {
		const names = [...index.tensors.keys()];
		throw new FateZeroError(
			'INVALID_INPUT',
			`--frames-tensor ${resolved} has no tensor "images" (it has ${names.length === 0 ? 'none' : names.map((name) => JSON.stringify(name)).join(', ')}). Save the frames as one F32 tensor named "images", [F, 3, H, W] in [-1, 1].`,
		);
	}
	const shape = entry.shape;
	if (!FLOAT_DTYPES.has(entry.dtype) || shape.length !== 4 || shape[1] !== 3 || shape[2] !== shape[3] || shape[0] < 1) {
		const what = !FLOAT_DTYPES.has(entry.dtype) ? `is ${entry.dtype}, not floating point` : shape[0] === 0 ? 'has zero frames' : `has shape [${shape.join(', ')}]`;
		throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved}: "images" ${what}. It must be F32 [F, 3, H, W] with F ≥ 1 frames, 3 RGB channels and square frames H = W in [-1, 1].`);
	}
	if (shape[2] !== size) {
		throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved}: "images" has ${shape[2]}×${shape[3]} frames but the size is ${size} (${sizeFrom}). The frames are used as they are: pass --size ${shape[2]}, or save them at ${size}×${size}.`);
	}
	const available = shape[0];
	const {start, stride} = selection;
	const fitting = start < available ? Math.floor((available - 1 - start) / stride) + 1 : 0;
	const count = selection.count ?? fitting;
	if (count < 1 || count > fitting) {
		throw new FateZeroError('INVALID_OPTION', `Frame selection start=${start} count=${selection.count ?? 'all'} stride=${stride} needs frame ${start + (Math.max(count, 1) - 1) * stride}, but --frames-tensor ${resolved} has ${available} frame${available === 1 ? '' : 's'}. Lower --frames-count or --stride, or start earlier.`);
	}
	const data = readFloatTensor(index, 'images').data;
	const plane = 3 * size * size;
	const frames = Array.from({length: count}, (_, k) => start + k * stride);
	const pixels = new Float32Array(count * plane);
	frames.forEach((frame, k) => pixels.set(data.subarray(frame * plane, (frame + 1) * plane), k * plane));
	let min = Number.POSITIVE_INFINITY;
	let max = Number.NEGATIVE_INFINITY;
	for (const value of pixels) {
		if (Number.isNaN(value)) throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved}: "images" contains NaN. Save finite pixel values in [-1, 1].`);
		if (value < min) min = value;
		if (value > max) max = value;
	}
	// The official preprocessing gives x/255·2−1 exactly in [-1, 1]; a little slack for resampled frames.
	if (min < -1.01 || max > 1.01) {
		throw new FateZeroError('INVALID_INPUT', `--frames-tensor ${resolved}: "images" spans [${min}, ${max}], not [-1, 1]. Scale 8-bit frames as x / 127.5 − 1 (or [0, 1] frames as x · 2 − 1).`);
	}
	return {pixels, count, frames};
};
