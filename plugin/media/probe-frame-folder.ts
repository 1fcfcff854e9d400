import path from 'node:path';
import sharp from 'sharp';
import {FateZeroError} from '../errors/fatezero-error.js';
import {listFrameFiles} from './list-frame-files.js';
import {mapWithConcurrency} from './map-with-concurrency.js';

export type FrameFolderProbe = {
	files: string[];
	width: number;
	height: number;
	/** Image formats present, e.g. 'png' or 'jpeg' ('jpeg+png' when mixed). */
	codec: string;
};

/**
 * Lists a frame folder and reads every image's header. FateZero stacks its frames into one tensor,
 * so all frames must share one size; a folder that mixes sizes is rejected here, naming two files.
 */
export const probeFrameFolder = async (dir: string): Promise<FrameFolderProbe> => {
	const files = listFrameFiles(dir);
	const headers = await mapWithConcurrency(files, 16, async (file) => {
		try {
			const meta = await sharp(file).metadata();
			if (!meta.width || !meta.height || !meta.format) throw new Error('no image size in the header');
			return {file, width: meta.width, height: meta.height, format: meta.format};
		} catch (error) {
			throw new FateZeroError('INVALID_INPUT', `Frame ${file} is not a readable PNG/JPEG image (${(error as Error).message}). Remove it from ${dir} or re-export it.`, {cause: error});
		}
	});
	const first = headers[0];
	const other = headers.find((h) => h.width !== first.width || h.height !== first.height);
	if (other) {
		const count = headers.filter((h) => h.width !== first.width || h.height !== first.height).length;
		throw new FateZeroError(
			'INVALID_INPUT',
			`Frame folder ${dir} mixes frame sizes: ${path.basename(first.file)} is ${first.width}×${first.height} but ${path.basename(other.file)} is ${other.width}×${other.height} (${count} of ${headers.length} frames differ from the first). FateZero expects one size for all frames of a clip; re-export the frames at one size.`,
		);
	}
	const formats = [...new Set(headers.map((h) => h.format))].sort();
	return {files, width: first.width, height: first.height, codec: formats.join('+')};
};
