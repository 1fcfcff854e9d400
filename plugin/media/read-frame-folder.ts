import {statSync} from 'node:fs';
import {FateZeroError} from '../errors/fatezero-error.js';
import {importSource} from './import-source.js';
import type {StrideSelection} from './frame-selection.js';

// Kept here too because plugin/frame-cache imports it from this module; the listing lives in list-frame-files.ts.
export {listFrameFiles} from './list-frame-files.js';

export type LoadedFrames = {
	files: string[];
	/** [N, 3, size, size] in [-1, 1], the VAE's input. */
	pixels: Float32Array;
	count: number;
	size: number;
};

/**
 * Loads frames of a PNG/JPEG folder as FateZero's dataset does. A thin wrapper over `importSource`
 * (which also takes videos) for callers that promise a folder, like `fatezero doctor --reconstruct`.
 */
export const readFrameFolder = async (dir: string, size: number, selection: StrideSelection = {}): Promise<LoadedFrames> => {
	if (!statSync(dir, {throwIfNoEntry: false})?.isDirectory()) {
		throw new FateZeroError('INVALID_INPUT', `Frame folder ${dir} does not exist or is not a folder. Pass a folder of PNG/JPEG frames.`);
	}
	const imported = await importSource({source: dir, size, frames: selection});
	return {files: imported.selectedFiles ?? [], pixels: imported.pixels, count: imported.count, size};
};
