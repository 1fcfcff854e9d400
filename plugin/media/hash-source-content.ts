import {createHash} from 'node:crypto';
import {createReadStream, statSync, type Stats} from 'node:fs';
import path from 'node:path';
import {pipeline} from 'node:stream/promises';
import {FateZeroError} from '../errors/fatezero-error.js';
import {listFrameFiles} from './list-frame-files.js';
import {mapWithConcurrency} from './map-with-concurrency.js';

/** Versioned prefix of a frame folder's digest input, so a future format change cannot collide. */
export const FRAME_FOLDER_HASH_HEADER = 'remotion-fatezero frame-folder v1\n';

const describeSpecialFile = (stats: Stats): string =>
	stats.isFIFO() ? 'a named pipe (FIFO)' : stats.isSocket() ? 'a socket' : stats.isCharacterDevice() ? 'a character device' : stats.isBlockDevice() ? 'a block device' : 'a special file';

/** SHA-256 (hex) of a file's bytes, streamed: the same value `sha256sum` prints. */
export const hashFileContent = async (file: string, signal?: AbortSignal): Promise<string> => {
	const hash = createHash('sha256');
	try {
		await pipeline(createReadStream(file), hash, {signal});
	} catch (error) {
		if (signal?.aborted) throw new FateZeroError('ABORTED', `Hashing ${file} was aborted.`, {cause: error});
		throw new FateZeroError('INVALID_INPUT', `Could not read ${file} to hash it (${(error as Error).message}). Check that it exists and is readable.`, {cause: error});
	}
	return hash.digest('hex');
};

/**
 * The basis of a source's content key. A file: SHA-256 of its bytes. A frame folder: SHA-256 of
 * `FRAME_FOLDER_HASH_HEADER` followed by one line `JSON(name) sha256(content)` per frame image in frame
 * order, so renaming, reordering, adding or changing a frame changes the key, while other files in the
 * folder (notes, thumbnails of another format) and the folder's own path do not.
 */
export const hashSourceContent = async (source: string, options: {signal?: AbortSignal} = {}): Promise<string> => {
	const resolved = path.resolve(source);
	let stats: Stats;
	try {
		stats = statSync(resolved);
	} catch (error) {
		throw new FateZeroError('INVALID_INPUT', `Source ${resolved} does not exist, so it cannot be hashed. Pass a video file or a folder of PNG/JPEG frames.`, {cause: error});
	}
	// A FIFO, a socket or a device (/dev/zero) never ends or never repeats: hashing it would hang.
	if (!stats.isFile() && !stats.isDirectory()) {
		throw new FateZeroError('INVALID_INPUT', `Source ${resolved} is ${describeSpecialFile(stats)}, not a regular file or a folder. Pass a video file or a folder of PNG/JPEG frames (copy a stream to a file first).`);
	}
	const isFolder = stats.isDirectory();
	if (!isFolder) return hashFileContent(resolved, options.signal);
	const files = listFrameFiles(resolved);
	const digests = await mapWithConcurrency(files, 4, (file) => hashFileContent(file, options.signal));
	const folderHash = createHash('sha256').update(FRAME_FOLDER_HASH_HEADER);
	files.forEach((file, i) => folderHash.update(`${JSON.stringify(path.basename(file))} ${digests[i]}\n`));
	return folderHash.digest('hex');
};
