import {FateZeroError} from '../errors/fatezero-error.js';
import {antialiasBilinearTaps} from './antialias-bilinear-taps.js';

/** Pixels cut from each edge before resizing (the official `offset_crop`'s `dataset_config.offset`). */
export type CropOffsets = {left?: number; right?: number; top?: number; bottom?: number};

/** 'center' (FateZero's default) or edge offsets; the centre square crop after resizing happens in both cases. */
export type CropOption = 'center' | CropOffsets;

export type ResolvedCrop = {left: number; right: number; top: number; bottom: number};

export const NO_CROP: ResolvedCrop = {left: 0, right: 0, top: 0, bottom: 0};

/** Checks a crop option's own fields; returns the offsets with zeros filled in. */
export const resolveCropOption = (crop: CropOption | undefined): ResolvedCrop => {
	if (crop === undefined || crop === 'center') return NO_CROP;
	if (crop === null || typeof crop !== 'object') {
		throw new FateZeroError('INVALID_OPTION', `crop is ${JSON.stringify(crop)}; use 'center' or pixel offsets {left, right, top, bottom}.`);
	}
	const known = new Set(['left', 'right', 'top', 'bottom']);
	for (const key of Object.keys(crop)) {
		if (!known.has(key)) throw new FateZeroError('INVALID_OPTION', `crop.${key} is not an offset; crop takes left, right, top and bottom (pixels cut from each edge before resizing).`);
	}
	const resolved = {...NO_CROP};
	for (const side of ['left', 'right', 'top', 'bottom'] as const) {
		const value = crop[side];
		if (value === undefined) continue;
		if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
			throw new FateZeroError('INVALID_OPTION', `crop.${side} is ${JSON.stringify(value)}; it must be a whole number of pixels ≥ 0.`);
		}
		resolved[side] = value;
	}
	return resolved;
};

/**
 * Checks that the offsets leave a frame. The official `offset_crop` silently clamps offsets that eat
 * the frame (down to a 1-pixel strip); here that is an error, since it is always a mistake.
 */
export const checkCropFits = (crop: ResolvedCrop, width: number, height: number, sourceLabel: string): void => {
	if (crop.left + crop.right >= width || crop.top + crop.bottom >= height) {
		throw new FateZeroError(
			'INVALID_OPTION',
			`crop {left: ${crop.left}, right: ${crop.right}, top: ${crop.top}, bottom: ${crop.bottom}} leaves no picture of ${sourceLabel}, whose frames are ${width}×${height}. Keep left + right < ${width} and top + bottom < ${height}.`,
		);
	}
};

/** FateZero's `short_size_scale` target: the short side becomes `size`, the long side `int(size / short · long)`. */
export const shortSideTarget = (width: number, height: number, size: number): {width: number; height: number} => {
	if (height < width) return {width: Math.max(size, Math.trunc((size / height) * width)), height: size};
	// A float product like 512/480·480 could truncate to 511 on a square frame; never go below the crop size.
	return {width: size, height: Math.max(size, Math.trunc((size / width) * height))};
};

// torch: from_numpy(uint8).div(255) * 2 - 1 in float32, reproduced step by step.
const TO_UNIT = Float32Array.from({length: 256}, (_, v) => Math.fround(Math.fround(Math.fround(v / 255) * 2) - 1));

/**
 * One frame through FateZero's `ImageSequenceDataset.transform`: x/255·2−1, offset crop, short side
 * resized to `size` (bilinear, antialiased, as `F.interpolate`), centre crop `(H − size) // 2`.
 * `rgb` is interleaved 8-bit RGB, `width`×`height`; the result is written as [3, size, size] floats
 * in [-1, 1] into `out` at `outOffset`. Only the pixels the centre crop keeps are computed.
 */
export const fateZeroFrameTransform = (
	rgb: Uint8Array,
	width: number,
	height: number,
	crop: ResolvedCrop,
	size: number,
	out: Float32Array,
	outOffset: number,
): void => {
	const cropWidth = width - crop.left - crop.right;
	const cropHeight = height - crop.top - crop.bottom;
	const plane = size * size;
	if (cropWidth === size && cropHeight === size) {
		// Already size×size: the resize's taps are 1 and 0, so the result is the scaled pixels themselves.
		for (let y = 0; y < size; y++) {
			const src = ((crop.top + y) * width + crop.left) * 3;
			for (let x = 0; x < size; x++) {
				const o = outOffset + y * size + x;
				const p = src + x * 3;
				out[o] = TO_UNIT[rgb[p]];
				out[o + plane] = TO_UNIT[rgb[p + 1]];
				out[o + 2 * plane] = TO_UNIT[rgb[p + 2]];
			}
		}
		return;
	}
	const target = shortSideTarget(cropWidth, cropHeight, size);
	const x0 = Math.floor((target.width - size) / 2);
	const y0 = Math.floor((target.height - size) / 2);
	const cols = antialiasBilinearTaps(cropWidth, target.width, x0, size);
	const rows = antialiasBilinearTaps(cropHeight, target.height, y0, size);

	// Source rows the kept output rows read, so the horizontal pass skips the rest.
	let rowLo = Number.POSITIVE_INFINITY;
	let rowHi = 0;
	for (let y = 0; y < size; y++) {
		rowLo = Math.min(rowLo, rows.first[y]);
		rowHi = Math.max(rowHi, rows.first[y] + rows.count[y]);
	}

	// Horizontal pass: [rowHi - rowLo, size, 3].
	const mid = new Float32Array((rowHi - rowLo) * size * 3);
	for (let r = rowLo; r < rowHi; r++) {
		const srcRow = ((crop.top + r) * width + crop.left) * 3;
		const midRow = (r - rowLo) * size * 3;
		for (let x = 0; x < size; x++) {
			const first = cols.first[x];
			const n = cols.count[x];
			const wBase = x * cols.maxTaps;
			let red = 0;
			let green = 0;
			let blue = 0;
			for (let j = 0; j < n; j++) {
				const w = cols.weights[wBase + j];
				const p = srcRow + (first + j) * 3;
				red += TO_UNIT[rgb[p]] * w;
				green += TO_UNIT[rgb[p + 1]] * w;
				blue += TO_UNIT[rgb[p + 2]] * w;
			}
			const m = midRow + x * 3;
			mid[m] = red;
			mid[m + 1] = green;
			mid[m + 2] = blue;
		}
	}

	// Vertical pass into CHW.
	for (let y = 0; y < size; y++) {
		const first = rows.first[y] - rowLo;
		const n = rows.count[y];
		const wBase = y * rows.maxTaps;
		for (let x = 0; x < size; x++) {
			let red = 0;
			let green = 0;
			let blue = 0;
			for (let j = 0; j < n; j++) {
				const w = rows.weights[wBase + j];
				const m = ((first + j) * size + x) * 3;
				red += mid[m] * w;
				green += mid[m + 1] * w;
				blue += mid[m + 2] * w;
			}
			const o = outOffset + y * size + x;
			out[o] = red;
			out[o + plane] = green;
			out[o + 2 * plane] = blue;
		}
	}
};

/** [3, size, size] floats in [-1, 1] at `offset` → interleaved 8-bit RGB (for PNGs). */
export const chwToRgb8 = (pixels: Float32Array, offset: number, size: number): Buffer => {
	const plane = size * size;
	const out = Buffer.allocUnsafe(plane * 3);
	for (let c = 0; c < 3; c++) {
		const base = offset + c * plane;
		for (let p = 0; p < plane; p++) {
			// Round half up, as Math.round does; values are clamped first so the truncation is a floor.
			const v = (pixels[base + p] + 1) * 127.5 + 0.5;
			out[p * 3 + c] = v <= 0 ? 0 : v >= 255 ? 255 : v | 0;
		}
	}
	return out;
};
