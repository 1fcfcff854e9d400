import {existsSync, readdirSync, statSync} from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {FateZeroError} from '../errors/fatezero-error.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

export type FrameSelection = {
	/** Index of the first frame among the sorted files. Default 0. */
	start?: number;
	/** Number of frames. Default: all from start. */
	count?: number;
	/** Take every `stride`-th frame (FateZero's `sampling_rate`). Default 1. */
	stride?: number;
};

export type LoadedFrames = {
	files: string[];
	/** [N, 3, size, size] in [-1, 1], the VAE's input. */
	pixels: Float32Array;
	count: number;
	size: number;
};

/** Sorted image files of a frame folder (FateZero reads frames in name order). */
export const listFrameFiles = (dir: string): string[] => {
	if (!existsSync(dir) || !statSync(dir).isDirectory()) {
		throw new FateZeroError('INVALID_INPUT', `Frame folder ${dir} does not exist or is not a folder. Pass a folder of PNG/JPEG frames.`);
	}
	const files = readdirSync(dir)
		.filter((name) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()))
		.sort((a, b) => a.localeCompare(b, 'en', {numeric: true}));
	if (files.length === 0) {
		throw new FateZeroError('INVALID_INPUT', `Frame folder ${dir} has no .png/.jpg/.jpeg files. Put the clip's frames there (00000.png, 00001.png, …).`);
	}
	return files.map((name) => path.join(dir, name));
};

/**
 * Loads frames as FateZero's dataset does: sorted, start/count/stride, short side resized to
 * `size` with an antialiased linear filter, centre-cropped square, scaled to [-1, 1].
 */
export const readFrameFolder = async (dir: string, size: number, selection: FrameSelection = {}): Promise<LoadedFrames> => {
	const all = listFrameFiles(dir);
	const start = selection.start ?? 0;
	const stride = selection.stride ?? 1;
	const available = Math.max(0, Math.ceil((all.length - start) / stride));
	const count = selection.count ?? available;
	if (!Number.isInteger(count) || count < 1 || count > available) {
		throw new FateZeroError(
			'INVALID_OPTION',
			`Frame selection start=${start} count=${count} stride=${stride} needs ${start + (count - 1) * stride + 1} frames, but ${dir} has ${all.length}. Lower the count or stride.`,
		);
	}
	const files = Array.from({length: count}, (_, i) => all[start + i * stride]);
	const plane = size * size;
	const pixels = new Float32Array(count * 3 * plane);
	await Promise.all(
		files.map(async (file, i) => {
			const rgb = await sharp(file).removeAlpha().resize(size, size, {fit: 'cover', position: 'centre', kernel: 'linear'}).raw().toBuffer();
			// HWC uint8 -> CHW float in [-1, 1]
			for (let p = 0; p < plane; p++) {
				for (let c = 0; c < 3; c++) pixels[(i * 3 + c) * plane + p] = (rgb[p * 3 + c] / 255) * 2 - 1;
			}
		}),
	);
	return {files, pixels, count, size};
};
