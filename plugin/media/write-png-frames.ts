import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {assertFinite} from './assert-finite.js';

/**
 * HWC float frames in [0, 1] -> 8-bit RGB (round half up, as PIL's `(x * 255).round()` does). NaN
 * or Infinity (a failed decode) is refused instead of silently becoming black pixels.
 */
export const toRgb8 = (frames: Float32Array, index: number, height: number, width: number): Buffer => {
	const size = height * width * 3;
	assertFinite(frames.subarray(index * size, (index + 1) * size), {stage: 'decode', what: `decoded frame ${index}`});
	const out = Buffer.alloc(size);
	for (let i = 0; i < size; i++) out[i] = Math.round(Math.min(Math.max(frames[index * size + i], 0), 1) * 255);
	return out;
};

/** PNG bytes of 8-bit RGB frames (HWC), in order. */
export const encodePngFrames = (frames: Uint8Array[], width: number, height: number): Promise<Buffer[]> =>
	Promise.all(frames.map((rgb) => sharp(rgb, {raw: {width, height, channels: 3}}).png().toBuffer()));

/** Writes frames [N, H, W, 3] in [0, 1] as 00000.png, 00001.png, … and returns the paths. */
export const writePngFrames = async (dir: string, frames: Float32Array, count: number, height: number, width: number): Promise<string[]> => {
	mkdirSync(dir, {recursive: true});
	const pngs = await encodePngFrames(Array.from({length: count}, (_, i) => toRgb8(frames, i, height, width)), width, height);
	return pngs.map((png, i) => {
		const file = path.join(dir, `${String(i).padStart(5, '0')}.png`);
		writeFileSync(file, png);
		return file;
	});
};
