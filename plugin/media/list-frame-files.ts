import {readdirSync, statSync} from 'node:fs';
import path from 'node:path';
import {FateZeroError} from '../errors/fatezero-error.js';

/** Extensions a frame folder's images may have (FateZero's IMAGE_EXTENSION, any letter case). */
export const FRAME_IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

export const isFrameImageName = (name: string): boolean => (FRAME_IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(name).toLowerCase());

/**
 * Frame order: digit runs compare as numbers, so frame2.png precedes frame10.png; the official code
 * sorts plain strings, which gives the same order for zero-padded names (00000.png …). Ties (01 vs 1)
 * fall back to code-unit order, so the order never depends on the locale (the folder's content key
 * hashes names in this order).
 */
export const compareFrameNames = (a: string, b: string): number => {
	const pa = a.match(/\d+|\D+/g) ?? [];
	const pb = b.match(/\d+|\D+/g) ?? [];
	for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
		const x = pa[i];
		const y = pb[i];
		if (x === y) continue;
		const xDigits = /^\d/.test(x);
		const yDigits = /^\d/.test(y);
		if (xDigits && yDigits) {
			// Compare as integers without Number overflow: strip leading zeros, then length, then digits.
			const xs = x.replace(/^0+(?=\d)/, '');
			const ys = y.replace(/^0+(?=\d)/, '');
			if (xs.length !== ys.length) return xs.length - ys.length;
			if (xs !== ys) return xs < ys ? -1 : 1;
			continue;
		}
		return x < y ? -1 : 1;
	}
	if (pa.length !== pb.length) return pa.length - pb.length;
	return a < b ? -1 : a > b ? 1 : 0;
};

/** Sorted image files (absolute paths) of a frame folder. */
export const listFrameFiles = (dir: string): string[] => {
	let names: string[];
	try {
		if (!statSync(dir).isDirectory()) throw new Error('not a folder');
		names = readdirSync(dir);
	} catch (error) {
		throw new FateZeroError('INVALID_INPUT', `Frame folder ${dir} does not exist or is not a folder. Pass a folder of PNG/JPEG frames or a video file.`, {cause: error});
	}
	const files = names.filter((name) => isFrameImageName(name) && statSync(path.join(dir, name)).isFile()).sort(compareFrameNames);
	if (files.length === 0) {
		const others = names.length === 0 ? 'it is empty' : `it holds ${names.length} other entr${names.length === 1 ? 'y' : 'ies'} (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`;
		throw new FateZeroError('INVALID_INPUT', `Frame folder ${dir} has no .png/.jpg/.jpeg files: ${others}. Put the clip's frames there (00000.png, 00001.png, …) or pass a video file.`);
	}
	return files.map((name) => path.join(dir, name));
};
