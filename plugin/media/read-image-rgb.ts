import sharp, {type OutputInfo} from 'sharp';
import {FateZeroError} from '../errors/fatezero-error.js';

export type RgbImage = {data: Buffer; width: number; height: number};

/**
 * Decodes an image to interleaved 8-bit RGB, like PIL's `Image.open(p).convert('RGB')` in FateZero:
 * alpha is dropped (not composited), grey and palette images become RGB, 16-bit is reduced to 8-bit,
 * and EXIF orientation is ignored (PIL does not apply it either).
 */
export const readImageRgb = async (file: string): Promise<RgbImage> => {
	let result: {data: Buffer; info: OutputInfo};
	try {
		result = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({resolveWithObject: true});
	} catch (error) {
		throw new FateZeroError('INVALID_INPUT', `Frame ${file} could not be decoded (${(error as Error).message}). Re-export it as PNG or JPEG.`, {cause: error});
	}
	const {data, info} = result;
	if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
		throw new FateZeroError('INVALID_INPUT', `Frame ${file} decoded to ${info.channels} channels, not 8-bit RGB. Re-export it as an 8-bit RGB PNG or JPEG.`);
	}
	return {data, width: info.width, height: info.height};
};
