import {mkdirSync} from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export type SyntheticFramesOptions = {
	/** Frames 00000.png … to write. Default 4. */
	count?: number;
	/** Side in pixels. Default 64. */
	size?: number;
	/** Shifts the colours: a different seed gives a different clip (a different cache key). Default 0. */
	seed?: number;
};

/** Writes size×size PNG frames 00000.png … into `dir`: gradients that move from frame to frame. */
export const writeFrames = async (dir: string, options: SyntheticFramesOptions = {}): Promise<string> => {
	const {count = 4, size = 64, seed = 0} = options;
	mkdirSync(dir, {recursive: true});
	for (let f = 0; f < count; f++) {
		const rgb = Buffer.alloc(size * size * 3);
		for (let y = 0; y < size; y++) {
			for (let x = 0; x < size; x++) {
				const p = (y * size + x) * 3;
				rgb[p] = (x * 4 + f * 9 + seed * 31) & 255;
				rgb[p + 1] = (y * 4 + seed * 17) & 255;
				rgb[p + 2] = ((x + y) * 2 + f * 23) & 255;
			}
		}
		await sharp(rgb, {raw: {width: size, height: size, channels: 3}})
			.png()
			.toFile(path.join(dir, `${String(f).padStart(5, '0')}.png`));
	}
	return dir;
};
