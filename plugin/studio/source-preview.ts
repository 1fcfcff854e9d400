import path from 'node:path';
import type {ClipDescriptor} from '../clip/clip-descriptor.js';
import {entryDir} from '../frame-cache/cache-layout.js';
import {sourceKey} from '../frame-cache/content-keys.js';
import {hashSourceContent} from '../media/hash-source-content.js';

/**
 * Where the preview of a running job will appear: frame 0 of its imported source entry
 * (`sources/<sourceKey>/frames/00000.png`, written by the job's import stage). The job publishes
 * nothing else before it is done, and decoding the engine's intermediate latents would need a hook
 * inside the edit loop, so the card shows the source frame the edit starts from. The key is the
 * job's own (same content hash, frames and size, no crop), so no file is copied.
 */
export const sourcePreviewFile = async (descriptor: ClipDescriptor, sourcePath: string, cacheDir: string, signal?: AbortSignal): Promise<string> => {
	const contentHash = await hashSourceContent(sourcePath, {signal});
	const key = sourceKey({contentHash, frames: descriptor.frames, size: descriptor.size});
	return path.join(entryDir(cacheDir, 'sources', key), 'frames', '00000.png');
};
