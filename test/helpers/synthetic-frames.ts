import {mkdirSync} from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** Writes `count` size×size PNG frames 00000.png … into `dir`: gradients that move from frame to frame. */
export const writeFrames = async (dir: string, count = 4, size = 64): Promise<string> => {
	mkdirSync(dir, {recursive: true});
	for (let f = 0; f < count; f++) {
		const rgb = Buffer.alloc(size * size * 3);
		for (let y = 0; y < size; y++) {
			for (let x = 0; x < size; x++) {
				const p = (y * size + x) * 3;
				rgb[p] = (x * 4 + f * 40) & 255;
				rgb[p + 1] = (y * 4 + f * 10) & 255;
				rgb[p + 2] = ((x + y) * 2 + f * 23) & 255;
			}
		}
		await sharp(rgb, {raw: {width: size, height: size, channels: 3}})
			.png()
			.toFile(path.join(dir, `${String(f).padStart(5, '0')}.png`));
	}
	return dir;
};
