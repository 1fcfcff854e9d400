import {mkdirSync, mkdtempSync, realpathSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import {afterAll} from 'vitest';

/** A fresh folder under the OS temp dir (real path), removed after the file's tests. */
export const tempWorkspace = (label: string): string => {
	const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), `fatezero-${label}-`)));
	afterAll(() => rmSync(dir, {recursive: true, force: true}));
	return dir;
};

/** Writes `count` size×size PNG gradients 00000.png … into `dir`. */
export const writeFrames = async (dir: string, count = 4, size = 64): Promise<string> => {
	mkdirSync(dir, {recursive: true});
	for (let f = 0; f < count; f++) {
		const rgb = Buffer.alloc(size * size * 3);
		for (let y = 0; y < size; y++) {
			for (let x = 0; x < size; x++) {
				const p = (y * size + x) * 3;
				rgb[p] = (x * 4 + f * 9) & 255;
				rgb[p + 1] = (y * 4) & 255;
				rgb[p + 2] = ((x + y) * 2 + f * 23) & 255;
			}
		}
		await sharp(rgb, {raw: {width: size, height: size, channels: 3}})
			.png()
			.toFile(path.join(dir, `${String(f).padStart(5, '0')}.png`));
	}
	return dir;
};

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` with `what`. */
export const waitFor = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 100): Promise<T> => {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, intervalMs));
	}
};
